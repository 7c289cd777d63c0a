import Foundation
import Synchronization

/// What this server's `message.partial` events carry: the whole text so far (snapshots) or
/// only what is new (increments); the seed allows both (L69, L79). Shared by every log of the
/// mount and kept on disk: learnt once from events, forgotten when a final text contradicts it.
/// Its lock is a leaf: taken under a log's lock, never the other way round.
public final class PartialKind: Sendable {
    public enum Kind: String, Codable, Sendable { case snapshots, increments }

    private let url: URL
    private let kind: Mutex<Kind?>

    init(directory: URL) {
        url = directory.appendingPathComponent("partials.json")
        kind = Mutex((try? Data(contentsOf: url)).flatMap { try? JSONDecoder().decode(Kind.self, from: $0) })
    }

    var current: Kind? { kind.withLock { $0 } }

    /// Records what events showed, unless something is known already.
    func learn(_ new: Kind) {
        kind.withLock { k in
            guard k == nil else { return }
            k = new
            if let data = try? JSONEncoder().encode(new) { try? writeAtomically(data, to: url) }
        }
    }

    /// A final text did not match what the learnt kind built: learn again.
    func forget() {
        kind.withLock { k in
            k = nil
            unlink(url.path)
        }
    }
}
