import Foundation

/// A built product running on its own thread (`Fixtures.runProduct`), for a test that talks to it while it runs —
/// scrapes its metrics port, sends it a signal — and then waits for its exit status.
public final class BackgroundProduct: @unchecked Sendable {
    private let lock = NSLock()
    private var process: Process?
    private var result: Result<Fixtures.CommandResult, Error>?
    private let done = DispatchSemaphore(value: 0)

    /// `whenStderr` sees everything printed on stderr so far, each time more arrives.
    public init(_ name: String, _ arguments: [String], in directory: URL? = nil, timeout: Double = 600,
                whenStderr: @escaping @Sendable (String) -> Void = { _ in }) {
        Thread.detachNewThread { [self] in
            let outcome = Result {
                try Fixtures.runProduct(name, arguments, in: directory, timeout: timeout) { text, process in
                    self.lock.withLock { self.process = process }
                    whenStderr(text)
                }
            }
            lock.withLock { result = outcome }
            done.signal()
        }
    }

    /// Whether the product has ended (`wait` returns at once).
    public var hasEnded: Bool { lock.withLock { result != nil } }

    /// The process id, once the product has printed something on stderr.
    public var pid: pid_t? { lock.withLock { process?.processIdentifier } }

    /// Sends `signal` (nothing if the product never printed, or already ended).
    public func send(_ signal: Int32) {
        lock.withLock {
            guard result == nil, let process, process.isRunning else { return }
            kill(process.processIdentifier, signal)
        }
    }

    /// Waits for the product to end (runProduct's own timeout bounds it) and returns how it ended.
    public func wait() throws -> Fixtures.CommandResult {
        done.wait()
        done.signal()
        return try lock.withLock { result! }.get()
    }
}
