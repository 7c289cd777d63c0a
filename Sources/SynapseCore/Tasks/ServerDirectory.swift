import Foundation
import Synchronization

/// A list the server keeps beside its tasks (its agents, its orchestrations), fetched at most
/// once per `ttl`, each item under a folder name made safe and unique (ids come from the
/// server). The last list is kept, so an item can be found without asking again.
final class ServerDirectory<Item: Sendable>: Sendable {
    struct Listed: Sendable {
        var items: [Item] = []
        /// Folder name → item, and item id → folder name.
        var byFolder: [String: Item] = [:]
        var folders: [String: String] = [:]
    }

    private let fetch: @Sendable () throws(RemoteError) -> [Item]
    /// An item's id.
    let id: @Sendable (Item) -> String
    private let health: ServerHealth
    private let listing: Expiring<Int, Listed>
    private let last = Mutex(Listed())

    init(health: ServerHealth, ttl: Double, id: @escaping @Sendable (Item) -> String, fetch: @escaping @Sendable () throws(RemoteError) -> [Item]) {
        self.fetch = fetch
        self.id = id
        self.health = health
        listing = Expiring(ttl: ttl, capacity: 1)
    }

    /// The items now (a fresh list, or one younger than the TTL).
    func current() throws(FSError) -> Listed {
        try listing.value(for: 0) { () throws(FSError) -> Listed in
            let items: [Item]
            do throws(RemoteError) { items = try fetch() } catch {
                health.record(error)
                throw error.fsError
            }
            health.recordSuccess()
            var names = UniqueNames()
            var listed = Listed(items: items)
            for item in items {
                let folder = names.claim(SafeName.component(id(item)))
                listed.byFolder[folder] = item
                listed.folders[id(item)] = folder
            }
            last.withLock { $0 = listed }
            return listed
        }
    }

    /// The item with this id: from the last list when it has it, else from a current one.
    func item(id wanted: String) throws(FSError) -> Item {
        if let known = lastKnown(where: { id($0) == wanted }) { return known }
        guard let item = try current().items.first(where: { id($0) == wanted }) else { throw .notFound(wanted) }
        return item
    }

    /// The item of the current list with this id (info.json: never older than the TTL).
    func currentItem(id wanted: String) throws(FSError) -> Item {
        guard let item = try current().items.first(where: { id($0) == wanted }) else { throw .notFound(wanted) }
        return item
    }

    /// The folder of the item with this id in the last list, without asking the server.
    func lastKnownFolder(of wanted: String) -> String? {
        last.withLock { $0.folders[wanted] }
    }

    /// The first item of the last list that matches, without asking the server.
    func lastKnown(where matches: (Item) -> Bool) -> Item? {
        last.withLock { $0.items.first(where: matches) }
    }
}
