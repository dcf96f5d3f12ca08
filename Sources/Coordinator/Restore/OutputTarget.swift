import Foundation
import Media

/// Where a restore's result goes, and how it gets there without a half-written result ever being at that place:
/// a film is written as a hidden `.NAME.partial-PID.EXT` beside the output and renamed over it when complete; an
/// image sequence (`out/frame_%06d.dpx`) is written into a hidden `.lumiere-partial-PID` folder beside it, and its
/// files are moved into place when every frame is written. Both pipelines use this one type.
struct OutputTarget {
    /// The path the user gave (a file, or a sequence pattern).
    let url: URL
    let isSequence: Bool
    /// `--overwrite`: an existing output *file* may be replaced (never frames of a sequence). Without it, an existing
    /// output is refused before any work, and one that appears while the job runs is not replaced at the end.
    let overwrite: Bool

    init(_ path: String, overwrite: Bool = false) {
        url = URL(fileURLWithPath: path).standardizedFileURL
        isSequence = MediaSource(path: url.path).isSequence
        self.overwrite = overwrite
    }

    /// What to delete if the run stops: the hidden file, or the hidden folder of a sequence.
    var partial: URL {
        let folder = url.deletingLastPathComponent()
        if isSequence { return folder.appendingPathComponent(".lumiere-partial-\(getpid())") }
        return folder.appendingPathComponent(".\(url.deletingPathExtension().lastPathComponent).partial-\(getpid()).\(url.pathExtension)")
    }

    /// Where the writer writes (a file or a pattern inside `partial`).
    var writePath: String { isSequence ? partial.appendingPathComponent(url.lastPathComponent).path : partial.path }

    /// The image codec of a sequence output (by its extension); nil for a film.
    var imageCodec: VideoEncoding.Codec? { isSequence ? VideoEncoding.Codec.image(forExtension: url.pathExtension) : nil }

    /// The throughput plot beside the output when the job directory is not kept (`OUT.throughput.png`; a sequence's
    /// pattern field left out of the name, so the plot is not mistaken for a frame).
    var plotPath: String {
        guard isSequence else { return url.path + ".throughput.png" }
        return defaultJobDirectory.deletingPathExtension().path + ".throughput.png"
    }

    /// The default job directory beside the output (a sequence's pattern field is left out of the name).
    var defaultJobDirectory: URL {
        guard isSequence else { return URL(fileURLWithPath: url.path + ".lumiere-job") }
        let name = url.lastPathComponent.replacingOccurrences(of: #"%0?\d?d"#, with: "", options: .regularExpression)
        return url.deletingLastPathComponent().appendingPathComponent(name + ".lumiere-job")
    }

    /// Checked before any work: a known container or image extension, not the input, not a folder, its folder
    /// exists, not an existing file unless `overwrite`, and (a sequence) no file of that name pattern is there
    /// already — frames are never overwritten.
    func validate(input: String) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue { throw RestoreError.outputIsDirectory(url.path) }
        let ext = url.pathExtension.lowercased()
        if isSequence {
            guard imageCodec != nil else { throw RestoreError.unsupportedSequenceExtension(ext) }
        } else {
            guard ["mp4", "mkv", "mov"].contains(ext) else { throw RestoreError.unsupportedOutputExtension(ext) }
        }
        if URL(fileURLWithPath: input).standardizedFileURL.resolvingSymlinksInPath() == url.resolvingSymlinksInPath() {
            throw RestoreError.outputIsInput(url.path)
        }
        // lstat, not fileExists: a dangling symbolic link at the output is something of the user's too.
        var status = stat()
        if !isSequence, !overwrite, lstat(url.path, &status) == 0 { throw RestoreError.outputExists(url.path) }
        let dir = url.deletingLastPathComponent().path
        guard fm.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else { throw RestoreError.outputDirectoryMissing(dir) }
        if isSequence, let existing = try MediaSource(path: url.path).sequenceFiles(limit: 100_000_000).first {
            throw RestoreError.outputSequenceExists(pattern: url.path, example: existing.path)
        }
    }

    /// Makes room for the writer (a sequence's hidden folder), after removing a leftover of the same name.
    func prepare() throws {
        try? FileManager.default.removeItem(at: partial)
        if isSequence {
            do { try FileManager.default.createDirectory(at: partial, withIntermediateDirectories: false) } catch {
                throw RestoreError.outputFailed(path: partial.path, detail: "\(error.localizedDescription)")
            }
        }
    }

    /// Puts the finished result in place. A film with `overwrite`: one rename, which replaces an existing output
    /// *file* atomically (the output is never removed first). A film without it: link + unlink, which fails instead
    /// of replacing a file that appeared at the output while the job ran (checked at the start, but hours may have
    /// passed). A sequence: each file renamed into the output folder, then the hidden folder removed; a file that
    /// appeared meanwhile under one of the names is not overwritten.
    func publish() throws {
        guard isSequence else {
            if overwrite {
                guard rename(partial.path, url.path) == 0 else { throw RestoreError.outputFailed(path: url.path, detail: String(cString: strerror(errno))) }
                return
            }
            if link(partial.path, url.path) == 0 {
                unlink(partial.path)
                return
            }
            let failure = errno
            if failure == EEXIST { throw RestoreError.outputAppeared(url.path) }
            // A file system without hard links (FAT, exFAT, some network shares): look, then rename. The window
            // between the two is a few microseconds instead of the whole job.
            guard [EPERM, ENOTSUP, EOPNOTSUPP, ENOSYS, EMLINK].contains(failure) else {
                throw RestoreError.outputFailed(path: url.path, detail: String(cString: strerror(failure)))
            }
            var status = stat()
            if lstat(url.path, &status) == 0 { throw RestoreError.outputAppeared(url.path) }
            guard rename(partial.path, url.path) == 0 else { throw RestoreError.outputFailed(path: url.path, detail: String(cString: strerror(errno))) }
            return
        }
        let folder = url.deletingLastPathComponent()
        let names = try FileManager.default.contentsOfDirectory(atPath: partial.path).sorted()
        for name in names {
            let destination = folder.appendingPathComponent(name).path
            // link + unlink: fails instead of replacing a file that is there.
            guard link(partial.appendingPathComponent(name).path, destination) == 0 else {
                throw RestoreError.outputFailed(path: destination, detail: String(cString: strerror(errno)))
            }
            unlink(partial.appendingPathComponent(name).path)
        }
        rmdir(partial.path)
    }
}
