import Foundation

/// Where a job directory may not be: places whose clean-up, or whose mix with the job's own files, could cost the
/// user something. Checked before anything is created.
public enum JobLocation {
    /// Refuses `/`, the home directory, the working directory and any folder holding them, a folder holding the
    /// input, and the output itself or any folder holding it.
    public static func check(_ job: URL, input: String, output: URL) throws {
        let dir = resolved(job)
        let path = dir.path
        func refuse(_ why: String) -> PlanningError { .unsafeJobDirectory(path: job.path, why: why) }
        if path == "/" { throw refuse("it is the root folder") }
        let home = [ProcessInfo.processInfo.environment["HOME"], NSHomeDirectory()].compactMap { $0 }.filter { !$0.isEmpty }
        if home.map({ resolved(URL(fileURLWithPath: $0)).path }).contains(path) { throw refuse("it is your home folder") }
        let cwd = resolved(URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).path
        if isSameOrInside(cwd, path) { throw refuse(cwd == path ? "it is the working folder" : "it holds the working folder") }
        let inputPath = resolved(URL(fileURLWithPath: input)).path
        if isSameOrInside(inputPath, path) { throw refuse("it holds the input film") }
        let outputPath = resolved(output).path
        if isSameOrInside(outputPath, path) { throw refuse(outputPath == path ? "it is the output path" : "it holds the output") }
    }

    /// True when `path` is `folder` or lies inside it.
    static func isSameOrInside(_ path: String, _ folder: String) -> Bool {
        path == folder || folder == "/" || path.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/")
    }

    /// The absolute path with `..`, `.` and symbolic links resolved as far as the path exists (the rest appended),
    /// so that `/tmp/..`, `./x/../` or a link to the home folder are seen for what they are.
    public static func resolved(_ url: URL) -> URL {
        var existing = url.standardizedFileURL
        var rest: [String] = []
        while !FileManager.default.fileExists(atPath: existing.path), existing.path != "/" {
            rest.insert(existing.lastPathComponent, at: 0)
            existing = existing.deletingLastPathComponent().standardizedFileURL
        }
        var base = existing.path
        if let real = realpath(existing.path, nil) { base = String(cString: real); free(real) }
        var result = URL(fileURLWithPath: base)
        for component in rest { result.appendPathComponent(component) }
        return result.standardizedFileURL
    }
}
