import Foundation
import SynapseCore
import SynapseHTTP

/// Decodes the `{code, message, data}` envelope and maps failures to `RemoteError`.
enum Envelope {
    static let rejectedKeyCodes: Set<Int> = [1101, 1105]

    /// The `data` of a successful answer, or the error the answer stands for.
    static func data(from response: HTTPResponse, what: String) throws(RemoteError) -> Any {
        let object = try? JSONSerialization.jsonObject(with: response.body, options: [.fragmentsAllowed])
        let envelope = object as? [String: Any]
        let code = (envelope?["code"] as? NSNumber)?.intValue
        let message = (envelope?["message"] as? String) ?? String(decoding: response.body.prefix(200), as: UTF8.self)
        if let error = error(status: response.status, code: code, message: message, what: what) { throw error }
        guard let envelope else { throw .malformed("\(what): answer is not a JSON object") }
        guard code == 200 || code == nil else { throw .server(status: response.status, message: message) }
        // A bare answer (`{success: false, error}` without an envelope) is its own data.
        return envelope["data"] ?? envelope
    }

    /// The body of a successful answer, checked as `data(from:what:)` checks it but without
    /// building it as objects (for answers decoded by `WireDecoding`).
    static func checkedBody(of response: HTTPResponse, what: String) throws(RemoteError) -> Data {
        let head = try? JSONDecoder().decode(Head.self, from: response.body)
        let message = head?.message ?? String(decoding: response.body.prefix(200), as: UTF8.self)
        if let error = error(status: response.status, code: head?.code, message: message, what: what) { throw error }
        // A bare JSON array is its own data (a message list without an envelope, API notes).
        if head == nil, response.body.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "[") { return response.body }
        guard let head else { throw .malformed("\(what): answer is not a JSON object") }
        guard head.code == 200 || head.code == nil else { throw .server(status: response.status, message: message) }
        return response.body
    }

    /// The error a 2xx answer's envelope stands for (a rejected key answered with HTTP 200, a
    /// non-200 `code`); nil when the body is no envelope or a success.
    static func errorInSuccess(_ response: HTTPResponse) -> RemoteError? {
        guard let head = try? JSONDecoder().decode(Head.self, from: response.body), let code = head.code, code != 200 else { return nil }
        return error(status: response.status, code: code, message: head.message ?? "code \(code)", what: "answer")
    }

    /// `code` and `message` of an envelope; decoding fails for anything but a JSON object.
    private struct Head: Decodable {
        let code: Int?
        let message: String?
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: WireKey.self)
            code = c.int("code")
            message = c.string("message")
        }
    }

    /// The error a status and envelope code stand for, or nil for success.
    static func error(status: Int, code: Int?, message: String, what: String) -> RemoteError? {
        if let code, rejectedKeyCodes.contains(code) { return .rejectedKey(message) }
        switch status {
        case 200..<300:
            if let code, code != 200 {
                return code == 404 ? .notFound("\(what): \(message)") : .server(status: code, message: message)
            }
            return nil
        case 401, 403: return .rejectedKey(message)
        case 404:
            // A framework's 404 (`Cannot GET /api/…`) or an empty one: the route itself is missing.
            let trimmed = message.trimmingCharacters(in: .whitespacesAndNewlines)
            return trimmed.isEmpty || trimmed.hasPrefix("Cannot ") ? .routeMissing("\(what): \(trimmed.isEmpty ? "404" : trimmed)") : .notFound("\(what): \(message)")
        case 422: return .invalidRequest(message)
        // 413: too large for the server (or a proxy before it); sending it again changes nothing.
        case 400, 413: return .refused(message)
        default: return .server(status: status, message: message)
        }
    }
}

/// Lenient readers for fields whose types differ between deployments.
enum Field {
    static func string(_ value: Any?) -> String? {
        switch value {
        case let s as String: s
        case let n as NSNumber: n.stringValue
        default: nil
        }
    }

    static func int64(_ value: Any?) -> Int64? {
        switch value {
        case let n as NSNumber: n.int64Value
        case let s as String: Int64(s)
        default: nil
        }
    }

    static func int(_ value: Any?) -> Int? { int64(value).map { Int($0) } }

    static func bool(_ value: Any?) -> Bool? {
        switch value {
        case let n as NSNumber: n.boolValue
        case let s as String: s == "true" || s == "1"
        default: nil
        }
    }

    /// ISO 8601 strings (with or without fractions), or numbers in seconds or milliseconds.
    static func date(_ value: Any?) -> Date? {
        if let n = value as? NSNumber {
            let v = n.doubleValue
            let seconds = v > 1e11 ? v / 1000 : v
            // Beyond year 9999 (or not a number) is not a time.
            guard seconds.isFinite, abs(seconds) < 253_402_300_800 else { return nil }
            return Date(timeIntervalSince1970: seconds)
        }
        guard let s = value as? String else { return nil }
        if let ms = Double(s) { return date(NSNumber(value: ms)) }
        // The Swift-native parse styles: ISO8601DateFormatter (ICU) cost most of a 10,000-task listing.
        for style in iso8601Styles {
            if let d = try? style.parse(s) { return d }
        }
        return nil
    }

    /// With and without fractions; and "2024-01-01 12:00:00", as some deployments print it, taken as UTC.
    private static let iso8601Styles: [Date.ISO8601FormatStyle] = [
        Date.ISO8601FormatStyle(includingFractionalSeconds: true),
        Date.ISO8601FormatStyle(),
        Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!).year().month().day().dateSeparator(.dash)
            .dateTimeSeparator(.space).time(includingFractionalSeconds: false).timeSeparator(.colon),
    ]
}
