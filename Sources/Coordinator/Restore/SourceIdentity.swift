import Foundation
import Media
import Planning

extension MediaSource {
    /// The cheap identity a job's keys and shot lists are filed under (a file: `JobKeys.inputIdentity`; a sequence:
    /// `JobKeys.sequenceIdentity` of its files), plus the chosen video stream. What proves a finished segment still
    /// matches is its frames' fingerprint (`FrameHash`), not this.
    public func identity() throws -> String {
        var id = isSequence ? try JobKeys.sequenceIdentity(files: sequenceFiles().map(\.path)) : try JobKeys.inputIdentity(path: path)
        if let videoStream { id += "-stream\(videoStream)" }
        // A trim is another film: its own shot list, plan and resume keys.
        if let trim { id += "-frames\(trim.first)+\(trim.count.map(String.init) ?? "end")@\(trim.rate.numerator)_\(trim.rate.denominator)" }
        return id
    }
}
