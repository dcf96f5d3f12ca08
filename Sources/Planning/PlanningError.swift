import Foundation

/// What went wrong while planning, journaling or resuming a job, in words that say what to do.
public enum PlanningError: Error, CustomStringConvertible, Equatable {
    case invalidSetting(String)
    case invalidShotList(String)
    case invalidPlan(String)
    case diskFull(path: String)
    case io(path: String, operation: String, errno: Int32)
    case corruptFile(path: String, why: String)
    /// A job directory Lumière will not use, because cleaning it up could delete files that are not its own.
    case unsafeJobDirectory(path: String, why: String)

    public var description: String {
        switch self {
        case .invalidSetting(let s): return "invalid setting: \(s)"
        case .invalidShotList(let s): return "the shot list is not usable: \(s); delete it to detect shots again"
        case .invalidPlan(let s): return "the segment plan is not usable: \(s)"
        case .diskFull(let p): return "no space left on the device while writing \(p); free some space and run the same command again (finished segments are kept)"
        case .io(let p, let op, let e): return "\(op) \(p) failed: \(String(cString: strerror(e))) (errno \(e)); check the path and its permissions"
        case .corruptFile(let p, let why): return "\(p) is damaged (\(why)); delete it and run again"
        case .unsafeJobDirectory(let p, let why):
            return "will not use \(p) as the job directory: \(why); give --job-dir a new or empty folder of its own (the default is OUTPUT.lumiere-job)"
        }
    }
}
