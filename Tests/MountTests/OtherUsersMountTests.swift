import Foundation
import Testing

/// `-o allow_other`: other local users see the mount, but act with the owner's API key only
/// where a mode lets them, and by default no mode lets them write.
extension MountTests { @Suite struct OtherUsers {
    let helper = TaskWrites()

    /// Runs `command` in a shell as the user `nobody`.
    func asNobody(_ command: String) throws -> CommandResult {
        try run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", command])
    }

    @Test func otherUsersReadButCannotWriteUnlessAllowed() throws {
        try withScene(["--seed-tasks", "1"]) { scene in
            // nobody must be able to reach the mountpoint.
            chmod(scene.root.path, 0o755)
            let task = "tasks/\(seededTask)"
            do {
                let mount = try scene.mount(extraArguments: ["-o", "allow_other"])
                defer { mount.unmount() }
                let info = try asNobody("cat '\(mount.path("\(task)/info.json"))'")
                #expect(info.status == 0, "\(info.stderr)")
                #expect(info.stdout.contains(seededTask))
                #expect(try asNobody("ls '\(mount.path("\(task)/workspace"))'").status == 0)
                for write in ["echo hello > '\(mount.path("\(task)/prompt.txt"))'",
                              "echo cancel > '\(mount.path("\(task)/ctl"))'",
                              "echo data > '\(mount.path("\(task)/uploads/from-nobody.txt"))'",
                              "mkdir '\(mount.path("tasks/nobodys-draft"))'"] {
                    let result = try asNobody(write)
                    #expect(result.status != 0, "\(write) succeeded for another user")
                    #expect(result.stderr.contains("Permission denied"), "\(write): \(result.stderr)")
                }
                #expect(try helper.userMessages(scene.emulator, seededTask).allSatisfy { !$0.contains("hello") })
                #expect(!FileManager.default.fileExists(atPath: mount.path("\(task)/uploads/from-nobody.txt")))
                // The owner (root here) still writes.
                #expect(try run(["mkdir", mount.path("tasks/owners-draft")]).status == 0)
            }
            // Opted in: other users write too.
            let mount = try scene.mount(extraArguments: ["-o", "allow_other", "--allow-other-writes"])
            defer { mount.unmount() }
            let drafted = try asNobody("mkdir '\(mount.path("tasks/shared-draft"))' && echo 'From another user [emu:words 3]' > '\(mount.path("tasks/shared-draft/prompt.txt"))'")
            #expect(drafted.status == 0, "\(drafted.stderr)")
            #expect(helper.waitForStatus(mount, "shared-draft", "completed") == "completed\n")
        }
    }
}}
