import Dispatch
import Foundation

/// Ctrl-C and SIGTERM for a whole restore, in every phase. The first request stops cleanly and resumably: analysis,
/// split and encode stop at their next frame (`checkpoint` throws `RestoreError.interrupted`, whose clean-up removes
/// any partial file), the farm stops handing out segments and keeps every finished one. The second stops at once:
/// workers are killed, registered temporary files deleted, and the process exits with `requestedExitCode` (130; 143 after SIGTERM).
///
/// `request()` is the same first stop without a signal, so tests can stop a job at an exact phase.
public final class StopSignal: @unchecked Sendable {
    /// The exit status of a restore stopped by Ctrl-C (SIGINT), resumable: 128 + 2, as shells report Ctrl-C.
    public static let interruptedExitCode: Int32 = 130
    /// The exit status of a restore stopped by SIGTERM, resumable: 128 + 15. A scheduler (Kubernetes, Slurm, systemd)
    /// stops with SIGTERM; 143 is what every shell and scheduler already reports for "ended by SIGTERM", so a stop
    /// Lumière caught and one it did not (killed before the handler ran) read alike, and both are resumable (the
    /// journal is written atomically). Distinct from 130 so a script can tell a person's Ctrl-C from a scheduler's
    /// preemption, and from 1 (a real failure) and 64 (usage), which a retry would not fix.
    /// `cluster/kubernetes/coordinator-job.yaml`'s podFailurePolicy names these codes (`ExitCodeTests` checks it).
    public static let terminatedExitCode: Int32 = 143
    /// Every status a resumable stop on request exits with.
    public static let resumableExitCodes: [Int32] = [interruptedExitCode, terminatedExitCode]
    /// The status of a stop requested without a signal (`request()`), as for Ctrl-C.
    public static let exitCode: Int32 = interruptedExitCode

    private let lock = NSLock()
    private var count = 0
    private var sources: [DispatchSourceSignal] = []
    private var drainHooks: [Int: @Sendable () -> Void] = [:]
    private var killHooks: [Int: @Sendable () -> Void] = [:]
    private var temporaryFiles: [Int: String] = [:]
    private var nextToken = 0
    private var currentPhase: String?
    private var phaseAtRequest: String?
    private var firstSignal: Int32?
    /// Called when a phase starts (tests use it to stop at a chosen phase).
    public var onPhase: (@Sendable (String) -> Void)?
    /// What the first request says on stderr (`serve` says it of one job, not of the process).
    public var firstStopMessage = "\nstopping: finishing what is in hand (press Ctrl-C again to stop now; run the same command again to resume)\n"

    public init() {}

    /// Routes SIGINT and SIGTERM here until `uninstall()`.
    public func install() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.request(signal: number) }
            source.resume()
            sources.append(source)
        }
    }

    public func uninstall() {
        for source in sources { source.cancel() }
        sources.removeAll()
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }

    public var isRequested: Bool { lock.withLock { count > 0 } }

    /// A stop request: the first one drains, the second one ends the process now. `signal`: the signal that asked
    /// (SIGINT, SIGTERM; nil from code); the first one decides the exit status (`requestedExitCode`).
    public func request(signal: Int32? = nil) {
        let (n, drains, kills, files) = lock.withLock { () -> (Int, [@Sendable () -> Void], [@Sendable () -> Void], [String]) in
            count += 1
            if count == 1 { phaseAtRequest = currentPhase; firstSignal = signal }
            return (count, Array(drainHooks.values), Array(killHooks.values), Array(temporaryFiles.values))
        }
        if n == 1 {
            FileHandle.standardError.write(Data(firstStopMessage.utf8))
            for hook in drains { hook() }
        } else if n == 2 {
            for hook in kills { hook() }
            for path in files { try? FileManager.default.removeItem(atPath: path) }
            FileHandle.standardError.write(Data("stopped at once; run the same command again to resume\n".utf8))
            exit(requestedExitCode)
        }
    }

    /// The exit status for this stop: 143 when the first request was SIGTERM, else 130.
    public var requestedExitCode: Int32 { lock.withLock { StopSignal.exitStatus(signal: firstSignal) } }

    /// 143 for SIGTERM, 130 for SIGINT or a request from code.
    public static func exitStatus(signal: Int32?) -> Int32 { signal == SIGTERM ? terminatedExitCode : interruptedExitCode }

    /// The phase begun last (nil before the first): what `/metrics` reports as `lumiere_phase`.
    public var phase: String? { lock.withLock { currentPhase } }

    /// Whether `error` is a stop on request (from a checkpoint, or the farm draining after one).
    public static func isStop(_ error: Error) -> Bool {
        if case RestoreError.interrupted? = error as? RestoreError { return true }
        if case FarmError.interrupted? = error as? FarmError { return true }
        return false
    }

    /// Throws `RestoreError.interrupted` once a stop was requested; called between frames.
    public func checkpoint(_ phase: String) throws {
        if isRequested { throw RestoreError.interrupted(phase: phase) }
    }

    /// Marks the start of a phase: a stop requested earlier ends the job here; `onPhase` runs after that check, so a
    /// stop it requests is seen by the phase's own first checkpoint (between frames), as a real Ctrl-C would be.
    public func begin(_ phase: String) throws {
        try checkpoint(phase)
        lock.withLock { currentPhase = phase }
        onPhase?(phase)
    }

    /// Back in `phase` (already begun) once an overlapping phase ended: a later stop is reported there.
    func enter(_ phase: String) { lock.withLock { currentPhase = phase } }

    /// The phase last begun when the first stop was requested. Phases overlap while the film is analysed and the farm
    /// already runs (issue 16 item 1): the job reports the phase the stop came in, whichever thread noticed it first.
    public var stoppedIn: String? { lock.withLock { phaseAtRequest } }

    /// While the returned token lives (until `remove`), a first request also calls `drain`, a second `kill`.
    public func register(drain: @escaping @Sendable () -> Void = {}, kill: @escaping @Sendable () -> Void = {}) -> Int {
        lock.withLock { nextToken += 1; drainHooks[nextToken] = drain; killHooks[nextToken] = kill; return nextToken }
    }

    /// A file to delete if the process is stopped at once (a partial output).
    public func registerTemporary(_ path: String) -> Int {
        lock.withLock { nextToken += 1; temporaryFiles[nextToken] = path; return nextToken }
    }

    public func remove(_ token: Int) {
        lock.withLock { drainHooks[token] = nil; killHooks[token] = nil; temporaryFiles[token] = nil }
    }
}
