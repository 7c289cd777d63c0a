import Foundation
import SynapseCore
import SynapseHTTP

/// The answers that can be large (the task list, a task's messages, its workspace listing)
/// decoded straight into typed values with Swift's JSONDecoder. JSONSerialization on Linux
/// builds an NSDictionary per object, about 3 KB each: a 100,000-file listing took 300 MB.
/// Each type accepts every shape the API notes list, and lenient scalars (numbers as strings
/// and the other way round), as the `Any`-based readers do.
enum WireDecoding {
    /// A page of the list; the next is the following number, unless this one was short or the
    /// last the server counts (without `meta`, the first page is all there is, as before).
    static func page(_ body: Data, requested page: Int, pageSize: Int, what: String) throws(RemoteError) -> TaskPage {
        let list = try decode(WireTaskList.self, from: body, what: what)
        let items = list.items.compactMap(\.value)
        let totalPages = list.totalPages ?? 1
        let last = items.count < pageSize || page >= totalPages
        return TaskPage(items: items, next: last ? nil : .number(page + 1), totalItems: list.totalItems, totalPages: totalPages)
    }

    static func task(_ body: Data, what: String) throws(RemoteError) -> TaskSummary {
        guard let task = try decode(WireTask.self, from: body, what: what).summary else { throw .malformed("\(what): no task") }
        return task
    }

    static func messages(_ body: Data, what: String) throws(RemoteError) -> [SlimmedTexts.Listed] {
        try decode(WireMessageList.self, from: body, what: what).messages
    }

    static func workspace(_ body: Data, what: String) throws(RemoteError) -> [WorkspaceEntry] {
        try decode(WireWorkspace.self, from: body, what: what).entries
    }

    /// The envelope's `data` (or the whole answer, when it has no envelope) as `T`.
    private static func decode<T: Decodable>(_ type: T.Type, from body: Data, what: String) throws(RemoteError) -> T {
        do {
            guard let value = try JSONDecoder().decode(Enveloped<T>.self, from: body).data else {
                throw RemoteError.malformed("\(what): no data")
            }
            return value
        } catch let error as RemoteError {
            throw error
        } catch {
            throw .malformed("\(what): \(Self.describe(error))")
        }
    }

    private static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return (path.isEmpty ? "" : path + ": ") + context.debugDescription
        @unknown default:
            return "\(error)"
        }
    }
}

/// Any key, for objects whose field names vary between deployments.
struct WireKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension KeyedDecodingContainer where Key == WireKey {
    /// The first of `names` present and not null, read leniently as `T`.
    private func first<T: LenientScalar>(_ type: T.Type, _ names: [String]) -> T.Value? {
        for name in names {
            if let value = (try? decodeIfPresent(T.self, forKey: WireKey(name)))??.value { return value }
        }
        return nil
    }

    func string(_ names: String...) -> String? { first(LenientString.self, names) }
    func int64(_ names: String...) -> Int64? { first(LenientInt.self, names) }
    func int(_ names: String...) -> Int? { first(LenientInt.self, names).map { Int(clamping: $0) } }
    func bool(_ names: String...) -> Bool? { first(LenientBool.self, names) }
    func date(_ names: String...) -> Date? { first(LenientDate.self, names) }
}

/// A scalar that arrives as a string or as a number, depending on the deployment.
protocol LenientScalar: Decodable {
    associatedtype Value
    var value: Value? { get }
}

struct LenientString: LenientScalar {
    let value: String?
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { value = s }
        else if let i = try? c.decode(Int64.self) { value = String(i) }
        else if let d = try? c.decode(Double.self) { value = String(d) }
        else { value = nil }
    }
}

struct LenientInt: LenientScalar {
    let value: Int64?
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let i = try? c.decode(Int64.self) { value = i }
        else if let s = try? c.decode(String.self) { value = Int64(s) }
        else if let d = try? c.decode(Double.self), d.isFinite, abs(d) < 9e18 { value = Int64(d) }
        else { value = nil }
    }
}

struct LenientBool: LenientScalar {
    let value: Bool?
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) { value = b }
        else if let i = try? c.decode(Int64.self) { value = i != 0 }
        else if let s = try? c.decode(String.self) { value = s == "true" || s == "1" }
        else { value = nil }
    }
}

struct LenientDate: LenientScalar {
    let value: Date?
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        // Strings first: the common shape (a failed attempt costs a thrown error).
        if let s = try? c.decode(String.self) { value = Field.date(s) }
        else if let d = try? c.decode(Double.self) { value = Field.date(NSNumber(value: d)) }
        else { value = nil }
    }
}

/// `{code, message, data}`: `data` as `T`; an answer without `data` is its own data.
struct Enveloped<T: Decodable>: Decodable {
    let data: T?
    init(from decoder: any Decoder) throws {
        if let c = try? decoder.container(keyedBy: WireKey.self), c.contains(WireKey("data")) {
            // Decoded even when null: for some answers null means empty (no messages yet).
            data = try c.decode(T.self, forKey: WireKey("data"))
        } else {
            data = try T(from: decoder)
        }
    }
}

/// The most elements read from one list: one more than the core accepts, so it can see that
/// a list is over its limit without the rest taking memory (a 16 MiB answer of `{"ts":1}`
/// would otherwise be two million messages).
let wireListLimit = 100_001

extension KeyedDecodingContainer where Key == WireKey {
    /// The array at `key`, elements that do not decode skipped, at most `limit` read.
    func list<T: Decodable>(_ type: T.Type, at key: String, limit: Int = wireListLimit) throws -> [T] {
        var array = try nestedUnkeyedContainer(forKey: WireKey(key))
        return try array.elements(T.self, limit: limit)
    }
}

extension UnkeyedDecodingContainer {
    mutating func elements<T: Decodable>(_ type: T.Type, limit: Int = wireListLimit) throws -> [T] {
        var out: [T] = []
        while !isAtEnd, out.count < limit {
            if let value = try decode(Skippable<T>.self).value { out.append(value) }
        }
        return out
    }
}

/// An element that may not decode; a bad one is skipped, not fatal to the whole list.
struct Skippable<T: Decodable>: Decodable {
    let value: T?
    init(from decoder: any Decoder) throws { value = try? T(from: decoder) }
}

struct WireTask: Decodable {
    let summary: TaskSummary?
    var value: TaskSummary? { summary }
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: WireKey.self)
        guard let id = c.string("id", "taskId") else {
            summary = nil
            return
        }
        let name = c.string("task_name", "name", "task") ?? id
        let word = c.string("status")
        summary = TaskSummary(id: id, name: name, serverStatus: word, status: UIMessage.status(ofWord: word),
                              createdAt: c.date("created_at", "createdAt"),
                              updatedAt: c.date("updated_at", "updatedAt"))
    }
}

/// `{items, meta: {totalItems, totalPages, currentPage}}`.
struct WireTaskList: Decodable {
    let items: [WireTask]
    let totalItems: Int?
    let totalPages: Int?
    let currentPage: Int?

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: WireKey.self)
        guard c.contains(WireKey("items")) else { throw RemoteError.malformed("ai_task/list: no items") }
        // A page holds at most what was asked for (100): a little slack, never the server's word.
        items = try c.list(WireTask.self, at: "items", limit: 1000)
        let meta = try? c.nestedContainer(keyedBy: WireKey.self, forKey: WireKey("meta"))
        totalItems = meta?.int("totalItems")
        totalPages = meta?.int("totalPages")
        currentPage = meta?.int("currentPage")
    }
}

/// One listed message, and whether the server marked its text as cut (the seed names no
/// marker: the names deployments of this kind use are accepted).
struct WireMessage: Decodable {
    let listed: SlimmedTexts.Listed?
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: WireKey.self)
        guard let ts = c.int64("ts") else {
            listed = nil
            return
        }
        let text = c.string("text")
        let message = UIMessage(ts: ts, type: (c.string("type")) ?? "say",
                                  say: c.string("say"), ask: c.string("ask"),
                                  text: text, reasoning: c.string("reasoning"),
                                  partial: c.bool("partial"))
        let flagged = c.bool("truncated", "isTruncated", "textTruncated", "slimmed", "isSlimmed") ?? false
        let fullLength = c.int("textLength", "fullTextLength", "originalLength", "originalTextLength")
        // (A JavaScript server counts UTF-16 units.)
        let longer = fullLength.map { $0 > (text?.utf16.count ?? 0) } ?? false
        listed = SlimmedTexts.Listed(message: message, markedCut: flagged || longer)
    }
}

/// A bare array, or an object holding the messages under `messages` or `uiMessages`; null is none.
struct WireMessageList: Decodable {
    let messages: [SlimmedTexts.Listed]
    init(from decoder: any Decoder) throws {
        if var array = try? decoder.unkeyedContainer() {
            messages = try array.elements(WireMessage.self).compactMap(\.listed)
            return
        }
        if let c = try? decoder.container(keyedBy: WireKey.self) {
            for key in ["messages", "uiMessages"] where c.contains(WireKey(key)) {
                messages = try c.list(WireMessage.self, at: key).compactMap(\.listed)
                return
            }
        }
        if (try? decoder.singleValueContainer().decodeNil()) == true {
            messages = []
            return
        }
        throw RemoteError.malformed("getUiMessageById: no message list")
    }
}

/// `files` as path strings or as objects with `path`/`name`, maybe `size` and `mtime`;
/// folders listed as entries of their own are left out (files imply them).
struct WireWorkspace: Decodable {
    let entries: [WorkspaceEntry]

    private struct Item: Decodable {
        let entry: WorkspaceEntry?
        init(from decoder: any Decoder) throws {
            // Objects first: the common shape (a failed attempt costs a thrown error).
            guard let c = try? decoder.container(keyedBy: WireKey.self) else {
                entry = WorkspaceEntry(path: try decoder.singleValueContainer().decode(String.self))
                return
            }
            guard let path = c.string("path", "name") else {
                entry = nil
                return
            }
            if let type = c.string("type"), type == "directory" || type == "dir" {
                entry = nil
                return
            }
            entry = WorkspaceEntry(path: path, size: c.int64("size"),
                                   mtime: c.date("mtime", "updated_at", "updatedAt"))
        }
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: WireKey.self)
        guard c.contains(WireKey("files")) else { throw RemoteError.malformed("getTaskWorkspace: no files") }
        entries = try c.list(Item.self, at: "files").compactMap(\.entry)
    }
}
