import ArgumentParser
import Foundation
import Processors
import Transport

/// `serve --control-bind`: the service's second control endpoint, for `submit`, `jobs`, … from other machines
/// (issue 18 item 1: "clients presenting an allowed CURVE key — never an open port").
///
/// The same requests and replies as the state directory's Unix socket, on a CURVE server socket with its own ZAP
/// handler and its own allow-list: a worker's key cannot submit and a client's key cannot join the farm. The service's
/// key pair is the coordinator's (`--key`): clients check they talk to the head node with the `coordinator.pub`
/// every worker already has. There is no way to run it without an allow-list.
public struct RemoteControlOptions: Sendable {
    public let endpoint: String
    public let keys: CurveKeyPair
    /// The clients allowed to control the service: each `.pub` file's name (for the audit log) and its Z85 key.
    public let allowedClients: [(name: String, key: String)]

    public init(endpoint: String, keys: CurveKeyPair?, allowedClients: [(name: String, key: String)]) throws {
        guard endpoint.hasPrefix("tcp://") else {
            throw ServiceError.remoteControl("--control-bind takes tcp://HOST:PORT (got \(endpoint)); users on the head node need no endpoint: "
                                             + "they use --state-dir (the Unix socket in it)")
        }
        try EndpointPolicy.validateBind(endpoint, keysConfigured: true, insecure: false)
        guard let keys else {
            throw ServiceError.remoteControl("--control-bind needs the service's CURVE key pair: --key coordinator.key (coordinator.pub beside it; "
                                             + "clients pass that .pub as --server-key)")
        }
        guard !allowedClients.isEmpty else {
            throw ServiceError.remoteControl("--control-bind needs --control-allow-keys FILE.pub|DIR: the public keys of the people or machines "
                                             + "allowed to submit (lumiere-coordinator keygen --name alice); the control endpoint never runs open")
        }
        self.endpoint = endpoint
        self.keys = keys
        self.allowedClients = allowedClients
    }
}

/// Where a client finds a service on another machine: `--service`, `--server-key`, `--key`.
public struct RemoteService: Sendable {
    public var endpoint: String
    /// The head node's `coordinator.pub` (Z85).
    public var serverPublicKey: String
    /// The client's own pair; its public half must be in the service's `--control-allow-keys`.
    public var clientKeys: CurveKeyPair

    public init(endpoint: String, serverPublicKey: String, clientKeys: CurveKeyPair) {
        self.endpoint = endpoint
        self.serverPublicKey = serverPublicKey
        self.clientKeys = clientKeys
    }
}

extension FarmService {
    /// Starts the remote control endpoint (stopped by the caller); its requests are answered by `answerRemote`.
    func startRemoteControl(_ remote: RemoteControlOptions) throws -> ControlServer {
        let logger = self.logger
        let server = ControlServer(remote: remote, log: { logger.warning("\($0)") }) { [self] in answerRemote($0, from: $1) }
        try server.start()
        let reachable = FarmRestorePipeline.reachable(server.boundEndpoint ?? remote.endpoint)
        let bound = server.boundEndpoint ?? remote.endpoint, count = remote.allowedClients.count
        logger.notice("remote control on \(bound) (CURVE; \(count) client key(s) allowed): clients use --service \(reachable) --server-key coordinator.pub --key NAME.key")
        return server
    }

    /// A request from another machine: logged with the client's key (the audit trail), and a `submit` checked here as
    /// the local `submit` checks it on the client side — the paths are the head node's, so only the head node can.
    func answerRemote(_ request: ControlRequest, from peer: ControlPeer) -> ControlReply {
        var request = request
        if request.command == .submit {
            if let refusal = RemoteSubmission.check(request.arguments ?? []) {
                logger.notice("remote submit from \(peer) refused: \(refusal.error ?? "")")
                return refusal
            }
            request.directory = "/" // every path was checked to be absolute
        }
        let reply = answer(request)
        let what = request.command == .submit ? "submit \((request.arguments ?? []).joined(separator: " "))" : request.command.rawValue
            + (request.job.map { " \($0)" } ?? "") + (request.priority.map { " priority \($0)" } ?? "")
        if let error = reply.error {
            logger.notice("remote \(what) from \(peer) refused: \(error)")
        } else {
            logger.notice("remote \(what) from \(peer)\(reply.job.map { ": job \($0)" } ?? "")")
        }
        return reply
    }
}

/// What the service checks of a remote `submit` before it is queued (a local `submit` checks the same on the client).
enum RemoteSubmission {
    /// nil: the command line may be queued; else the refusal, with the exit status `restore` would give.
    static func check(_ arguments: [String]) -> ControlReply? {
        let command: RestoreCommand
        do {
            command = try RestoreCommand.parse(arguments)
        } catch {
            return ControlReply(error: RestoreCommand.message(for: error), status: RestoreCommand.exitCode(for: error).rawValue)
        }
        if let option = command.serviceOwnedOption {
            return ControlReply(error: "\(option) is the service's to set: a submitted job runs on the service's workers; drop \(option)", status: 64)
        }
        let relative = command.pathOptions.filter { !$0.value.hasPrefix("/") && !$0.value.contains("://") }
        if let first = relative.first {
            return ControlReply(error: "\(first.name) \(first.value) is relative: paths in a remote submit are the head node's (the film and the output "
                                + "must be on storage it sees); give the absolute path there", status: 64)
        }
        do {
            // The job's --models-dir is left to the job itself: `prepared` would set the process-wide models directory,
            // which the running job may be reading (FarmService.prepare sets it for each job).
            var checked = command
            checked.modelsDir = nil
            try checked.checkBeforeQueueing()
        } catch {
            return ControlReply(error: failureMessage(error), status: exitStatus(of: error))
        }
        return nil
    }
}
