import CCurl
import Foundation

/// Owns one libcurl easy handle. Handles are reused from a pool so connections stay alive.
final class CurlEasy {
    let handle: UnsafeMutableRawPointer
    /// The cookie jar the handle is attached to: kept alive as long as the handle, since
    /// libcurl detaches from its share (taking the share's locks) only at cleanup.
    var cookieJar: CookieJar?

    init() {
        _ = CurlEasy.globalInit
        handle = curl_easy_init()
    }

    deinit {
        curl_easy_cleanup(handle)
    }

    /// libcurl wants one global init before any thread uses it.
    static let globalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_ALL))

    /// The first option libcurl refused since the last reset: the request is not sent with
    /// an option missing (a timeout, a CA bundle), it fails saying which.
    private(set) var setupFailure: String?

    func reset() {
        curl_easy_reset(handle)
        setupFailure = nil
    }

    private func check(_ code: CURLcode, _ option: CURLoption) {
        if code != CURLE_OK, setupFailure == nil { setupFailure = "libcurl refused option \(option.rawValue): \(Self.describe(code))" }
    }

    func set(_ option: CURLoption, _ value: Int) {
        check(sfs_curl_setopt_long(handle, option, value), option)
    }

    func set(_ option: CURLoption, _ value: String) {
        // libcurl copies string options (since 7.17), so a temporary C string is fine.
        check(value.withCString { sfs_curl_setopt_str(handle, option, $0) }, option)
    }

    func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) {
        check(sfs_curl_setopt_ptr(handle, option, pointer), option)
    }

    func setProgress(_ callback: sfs_curl_xferinfo_callback) {
        check(sfs_curl_setopt_xferinfo(handle, callback), CURLOPT_XFERINFOFUNCTION)
    }

    func set(_ option: CURLoption, callback: sfs_curl_data_callback) {
        check(sfs_curl_setopt_data_callback(handle, option, callback), option)
    }

    func responseCode() -> Int {
        var code = 0
        _ = sfs_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    func contentLength() -> Int64? {
        var length: curl_off_t = -1
        _ = sfs_curl_getinfo_off(handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length)
        return length >= 0 ? Int64(length) : nil
    }

    /// A header of the response received so far (the last one of that name).
    func header(_ name: String) -> String? {
        var found: UnsafeMutablePointer<curl_header>?
        guard curl_easy_header(handle, name, 0, UInt32(CURLH_HEADER), -1, &found) == CURLHE_OK,
              let value = found?.pointee.value else { return nil }
        return String(cString: value)
    }

    func perform() -> CURLcode { curl_easy_perform(handle) }

    static func describe(_ code: CURLcode) -> String { String(cString: curl_easy_strerror(code)) }
}

/// A list of header lines for CURLOPT_HTTPHEADER, freed with the list.
final class CurlHeaders {
    private(set) var list: UnsafeMutablePointer<curl_slist>?

    init(_ lines: [String]) {
        for line in lines { list = curl_slist_append(list, line) }
    }

    deinit { curl_slist_free_all(list) }
}
