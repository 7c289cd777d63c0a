import Foundation
import Synchronization

/// The questions runs wait on (`ask_user`, `permission_request`), answered by their routes.
/// A run lives only as long as its stream; its questions go with it.
final class AsyncatQuestions: Sendable {
    private let answers = Mutex<[String: String?]>([:])

    /// A new question; its answer is polled with `answer(to:)`.
    func ask() -> String {
        let id = "req_" + UUID().uuidString.prefix(12).lowercased()
        answers.withLock { $0[id] = .some(nil) }
        return id
    }

    /// Answers a waiting question; false when none waits under `id` (unknown, answered, gone).
    func answer(_ id: String, with text: String) -> Bool {
        answers.withLock { all in
            guard case .some(.none) = all[id] else { return false }
            all[id] = .some(text)
            return true
        }
    }

    func answer(to id: String) -> String? { answers.withLock { $0[id] ?? nil } }

    func forget(_ id: String) { _ = answers.withLock { $0.removeValue(forKey: id) } }

    /// Waits (asleep) for the answer, up to `seconds`; nil when none came.
    func wait(for id: String, seconds: Double, alive: () async throws -> Void) async throws -> String? {
        defer { forget(id) }
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let answer = answer(to: id) { return answer }
            try await alive()
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }
}
