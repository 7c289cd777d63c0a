import Foundation
import InfiniSynapse
import InfiniSynapseEmulator
import Logging
import Asyncat
import AsyncatEmulator
import Sage
import SageEmulator
import SynapseAI
import SynapseAIEmulator
import SynapseCore
import SynapseHTTP

extension MountSession {
    /// The server as the mount found it.
    struct Server {
        var client: any AgentBackend
        var description: String
        /// For the success line: what is mounted, and how the server answered.
        var what: String
        var connection: String
        var warning: String?
        /// Stops the built-in emulator, when one was started.
        var stopEmulator: (() -> Void)?
    }

    /// The client for the configured server (or a started emulator), checked with one request.
    func connect(logger: Logger) throws -> Server {
        let settings = plan.settings
        // A whole request may take twice the idle timeout: no operation outlasts that.
        let timeouts = Timeouts(connect: settings.connectTimeout, idle: settings.idleTimeout, request: 2 * settings.idleTimeout)
        switch (settings.backend, settings.server) {
        case (.infiniSynapse, .builtInEmulator):
            var configuration = EmulatorConfiguration(dataDirectory: plan.cache.root.appendingPathComponent("emulator-data"), apiKeys: [Self.randomKey()])
            configuration.seedTasks = 5
            let emulator = try startEmulator { try EmulatorServer.startBlocking(configuration: configuration, logger: Logger(label: "emulator")) }
            logger.notice("no server configured: serving the built-in emulator at \(emulator.baseURL) with demo tasks")
            let client = InfiniSynapseClient(baseURL: emulator.baseURL, apiKey: emulator.apiKey, timeouts: timeouts, stateDirectory: plan.cache.state,
                                             autoApprovalSettings: settings.autoApprovalSettings, logger: logger)
            return Server(client: client, description: "built-in emulator (\(emulator.baseURL))",
                          what: "the built-in emulator with \(configuration.seedTasks) demo tasks (no server configured)",
                          connection: "online (built-in emulator at \(emulator.baseURL))", stopEmulator: emulator.stopBlocking)
        case (.infiniSynapse, .remote(let url, let credentials)):
            guard case .apiKey(let apiKey) = credentials else { throw SettingsError("an InfiniSynapse server takes an API key, not a login") }
            let client = InfiniSynapseClient(baseURL: url, apiKey: apiKey, timeouts: timeouts, caFile: settings.caFile, stateDirectory: plan.cache.state,
                                             autoApprovalSettings: settings.autoApprovalSettings, logger: logger)
            return try checked(Server(client: client, description: url, what: url, connection: "online"), url: url, logger: logger) {
                () throws(RemoteError) in try client.ping()
            }
        case (.sage, .builtInEmulator):
            let password = Self.randomKey()
            var configuration = SageEmulatorConfiguration(dataDirectory: plan.cache.root.appendingPathComponent("emulator-data"),
                                                          accounts: ["synapsefs": password])
            configuration.seedConversations = 5
            let emulator = try startEmulator { try SageEmulatorServer.startBlocking(configuration: configuration, logger: Logger(label: "emulator")) }
            logger.notice("no server configured: serving the built-in Sage emulator at \(emulator.baseURL) with demo conversations")
            let client = try sageClient(emulator.baseURL, user: "synapsefs", password: password, timeouts: timeouts, logger: logger)
            return Server(client: client, description: "built-in Sage emulator (\(emulator.baseURL))",
                          what: "the built-in Sage emulator with \(configuration.seedConversations) demo conversations (no server configured)",
                          connection: "online (built-in Sage emulator at \(emulator.baseURL))", stopEmulator: emulator.stopBlocking)
        case (.asyncat, .builtInEmulator):
            var configuration = AsyncatEmulatorConfiguration(dataDirectory: plan.cache.root.appendingPathComponent("emulator-data"), tokens: [])
            configuration.seedConversations = 5
            let emulator = try startEmulator { try AsyncatEmulatorServer.startBlocking(configuration: configuration, logger: Logger(label: "emulator")) }
            logger.notice("no server configured: serving the built-in Asyncat emulator at \(emulator.baseURL) with demo conversations")
            let client = AsyncatClient(baseURL: emulator.baseURL, token: nil, timeouts: timeouts, stateDirectory: plan.cache.state,
                                       autoApprove: plan.autoApprove, logger: logger)
            return Server(client: client, description: "built-in Asyncat emulator (\(emulator.baseURL))",
                          what: "the built-in Asyncat emulator with \(configuration.seedConversations) demo conversations (no server configured)",
                          connection: "online (built-in Asyncat emulator at \(emulator.baseURL))", stopEmulator: emulator.stopBlocking)
        case (.asyncat, .remote(let url, let credentials)):
            let token: String? = if case .apiKey(let token) = credentials { token } else { nil }
            let client = AsyncatClient(baseURL: url, token: token, timeouts: timeouts, caFile: settings.caFile, stateDirectory: plan.cache.state,
                                       autoApprove: plan.autoApprove, logger: logger)
            return try checked(Server(client: client, description: "Asyncat at \(url)", what: "Asyncat at \(url)", connection: "online"),
                               url: url, logger: logger) { () throws(RemoteError) in
                _ = try client.listTasks(from: nil, pageSize: 1)
            }
        case (.synapse, .builtInEmulator):
            let key = "sk-syn-" + Self.randomKey()
            let emulator = try startEmulator { try SynapseAIEmulatorServer.startBlocking(configuration: SynapseAIEmulatorConfiguration(apiKeys: [key]),
                                                                                         logger: Logger(label: "emulator")) }
            logger.notice("no server configured: serving the built-in Synapse emulator at \(emulator.baseURL) with demo agents")
            let client = SynapseAIClient(baseURL: emulator.baseURL, apiKey: key, timeouts: timeouts, stateDirectory: plan.cache.state, logger: logger)
            return Server(client: client, description: "built-in Synapse emulator (\(emulator.baseURL))",
                          what: "the built-in Synapse emulator with demo agents (no server configured)",
                          connection: "online (built-in Synapse emulator at \(emulator.baseURL))", stopEmulator: emulator.stopBlocking)
        case (.synapse, .remote(let url, let credentials)):
            guard case .apiKey(let key) = credentials else { throw SettingsError("a Synapse server takes an API key") }
            let client = SynapseAIClient(baseURL: url, apiKey: key, timeouts: timeouts, caFile: settings.caFile, stateDirectory: plan.cache.state, logger: logger)
            return try checked(Server(client: client, description: "Synapse at \(url)", what: "Synapse at \(url)", connection: "online"),
                               url: url, logger: logger) { () throws(RemoteError) in
                // 503 while the server starts: asked again, with backoff, for a while.
                var delay = 0.5
                while true {
                    do throws(RemoteError) { _ = try client.listAgents(); return } catch .server(let status, let message) where status == 503 && delay < 8 {
                        logger.info("Synapse is starting (\(message)); asking again in \(delay) s")
                        Thread.sleep(forTimeInterval: delay)
                        delay *= 2
                    }
                }
            }
        case (.sage, .remote(let url, let credentials)):
            guard case .login(let user, let password) = credentials else { throw SettingsError("a Sage server takes a login (USER:PASSWORD)") }
            let client = try sageClient(url, user: user, password: password, timeouts: timeouts, logger: logger)
            return try checked(Server(client: client, description: "Sage at \(url)", what: "Sage at \(url)", connection: "online"),
                               url: url, logger: logger) { () throws(RemoteError) in
                // The login and one page of one conversation: the cheapest request that needs both.
                _ = try client.listTasks(from: nil, pageSize: 1)
            }
        }
    }

    private func sageClient(_ url: String, user: String, password: String, timeouts: Timeouts, logger: Logger) throws -> SageClient {
        do {
            return try SageClient(baseURL: url, user: user, password: password, timeouts: timeouts, caFile: plan.settings.caFile, logger: logger)
        } catch {
            throw SettingsError("cannot talk to Sage at \(url): \(error)")
        }
    }

    private func startEmulator<T>(_ start: () throws -> T) throws -> T {
        do { return try start() } catch { throw SettingsError("cannot start the built-in emulator: \(error)") }
    }

    /// The server after one request: a rejected key or an untrusted certificate stops the
    /// mount; a server that is down or answers oddly is mounted anyway, with a warning.
    private func checked(_ server: Server, url: String, logger: Logger, probe: () throws(RemoteError) -> Void) throws -> Server {
        var server = server
        do {
            try probe()
        } catch .rejectedKey(let message) {
            let what = plan.settings.backend == .sage ? "login" : "API key"
            throw SettingsError("the server at \(url) rejected the \(what) (\(message)); set a valid one and mount again")
        } catch .untrustedServer(let message) {
            throw SettingsError("the TLS certificate of \(url) is not trusted (\(message)); trust its CA with --ca-file FILE or SSL_CERT_FILE")
        } catch .notFound(let message), .routeMissing(let message) {
            server.connection = "answers, but not as a \(plan.settings.backend.rawValue) server"
            server.warning = "the server at \(url) does not have the routes of a \(plan.settings.backend.rawValue) server (\(message)): is the URL the server's base, and --backend right? mounted anyway"
            logger.warning("\(server.warning!)")
        } catch {
            server.connection = "unreachable (\(error))"
            server.warning = "the server at \(url) is unreachable (\(error)); mounted anyway: cached files stay readable, and the mount reconnects"
            logger.warning("\(server.warning!)")
        }
        return server
    }
}
