import Dispatch
import Foundation

/// Graceful stop for a running job. The first SIGINT/SIGTERM stops handing out segments and lets the work in
/// hand finish or come back (the job directory keeps every finished segment); the second stops at once.
final class InterruptHandler: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var count = 0

    init(onFirst: @escaping @Sendable () -> Void, onSecond: @escaping @Sendable () -> Void) {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                self.lock.lock(); self.count += 1; let n = self.count; self.lock.unlock()
                if n == 1 {
                    FileHandle.standardError.write(Data("\nstopping: finishing the segments in hand (press Ctrl-C again to stop now; run the same command again to resume)\n".utf8))
                    onFirst()
                } else {
                    onSecond()
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Puts the default signal behaviour back.
    func cancel() {
        for source in sources { source.cancel() }
        sources.removeAll()
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
