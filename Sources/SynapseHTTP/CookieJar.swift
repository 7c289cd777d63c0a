import CCurl
import Foundation

/// The cookies of one server session (Sage's login sets one beside its token), kept by
/// libcurl's cookie engine in memory and shared by every request of the transport that holds
/// the jar. Never written to disk: a session cookie is as secret as a key.
public final class CookieJar: @unchecked Sendable {
    // @unchecked: `share` is only used through libcurl, which takes `locks` around each use.
    let share: UnsafeMutableRawPointer
    private let locks: ShareLocks

    /// Nil when libcurl cannot share cookies (then requests fail saying so, not silently
    /// without their cookies).
    public init?() {
        _ = CurlEasy.globalInit
        guard let share = curl_share_init() else { return nil }
        let locks = ShareLocks()
        let box = Unmanaged.passUnretained(locks).toOpaque()
        let ok = sfs_curl_share_setopt_ptr(share, CURLSHOPT_USERDATA, box) == CURLSHE_OK
            && sfs_curl_share_setopt_lock(share, { _, data, _, box in
                Unmanaged<ShareLocks>.fromOpaque(box!).takeUnretainedValue().lock(data)
            }) == CURLSHE_OK
            && sfs_curl_share_setopt_unlock(share, { _, data, box in
                Unmanaged<ShareLocks>.fromOpaque(box!).takeUnretainedValue().unlock(data)
            }) == CURLSHE_OK
            && sfs_curl_share_setopt_long(share, CURLSHOPT_SHARE, Int(CURL_LOCK_DATA_COOKIE.rawValue)) == CURLSHE_OK
        guard ok else {
            curl_share_cleanup(share)
            return nil
        }
        self.share = share
        self.locks = locks
    }

    deinit {
        // Every handle attached to the share holds the jar, so none is left to use it now.
        let code = curl_share_cleanup(share)
        assert(code == CURLSHE_OK, "cookie share still in use at cleanup")
    }

    /// Makes `easy`'s request send this session's cookies and keep the ones it is given.
    func attach(to easy: CurlEasy) {
        easy.cookieJar = self
        easy.set(CURLOPT_SHARE, pointer: share)
        // An empty file name turns the cookie engine on without reading any file.
        easy.set(CURLOPT_COOKIEFILE, "")
    }

    /// Forgets every cookie (a logout, or a new login replacing the session).
    public func clear() {
        let easy = CurlEasy()
        attach(to: easy)
        easy.set(CURLOPT_COOKIELIST, "ALL")
    }
}

/// One mutex per kind of data libcurl shares: it may hold two kinds at once.
private final class ShareLocks: @unchecked Sendable {
    // @unchecked: the mutexes are the synchronisation.
    private let mutexes: UnsafeMutablePointer<pthread_mutex_t>
    private static let count = Int(CURL_LOCK_DATA_LAST.rawValue) + 1

    init() {
        mutexes = .allocate(capacity: Self.count)
        for i in 0..<Self.count { pthread_mutex_init(mutexes + i, nil) }
    }

    deinit {
        for i in 0..<Self.count { pthread_mutex_destroy(mutexes + i) }
        mutexes.deallocate()
    }

    func lock(_ data: curl_lock_data) { pthread_mutex_lock(mutexes + Self.index(data)) }
    func unlock(_ data: curl_lock_data) { pthread_mutex_unlock(mutexes + Self.index(data)) }

    private static func index(_ data: curl_lock_data) -> Int { min(Int(data.rawValue), count - 1) }
}
