import Foundation
import Shared

/// Finds the directory holding the ncnn model folders (realesr-animevideov3/, rife-v4.0-ncnn/, … — `ModelCatalogue`).
/// The search order, the same for `restore`, `models` and `lumiere-worker` (docs/models.md); the first hit wins:
///  1. `--models-dir DIR` (`commandLineDirectory`), which must hold models;
///  2. `$LUMIERE_MODELS`, which must hold models;
///  3. the installed share directory: `<prefix>/share/lumiere/models` beside the executable's `<prefix>/bin/`;
///  4. `./models` (the working directory: a checkout's root);
///  5. the `models/` of the checkout that holds the executable (`<repo>/.build/release/lumiere-worker` → `<repo>/models`).
/// The models ship in the repository (models/README.md), so a checkout always finds them.
public enum ModelLocator {
    public struct NotFound: Error, CustomStringConvertible, Equatable {
        public let searched: [String]
        public let reason: String
        public var description: String {
            "model directory not found (\(reason)); searched: \(searched.joined(separator: ", ")) — \(ModelLocator.fix)"
        }
    }

    /// Where a model directory was found.
    public enum Origin: String, Sendable {
        case option = "--models-dir"
        case environment = "LUMIERE_MODELS"
        case installed = "installed share directory"
        case workingDirectory = "./models"
        case checkout = "the executable's checkout"
    }

    /// What fixes missing or damaged model files; every model error ends with it.
    public static let fix = "fix: run `git checkout -- models` in the Lumière checkout (or clone it again), "
        + "or point --models-dir or LUMIERE_MODELS at a complete models folder; `lumiere-coordinator models --check` checks every file"

    private static let lock = NSLock()
    nonisolated(unsafe) private static var _commandLineDirectory: String?
    /// `--models-dir` of the running command: searched first by every model this process loads.
    public static var commandLineDirectory: String? {
        get { lock.withLock { _commandLineDirectory } }
        set { lock.withLock { _commandLineDirectory = newValue } }
    }

    /// A folder counts as a model directory when it holds at least one model folder of the catalogue.
    static var markers: [String] { ModelCatalogue.all.map(\.folder) }

    public static func modelsDirectory(explicit: String? = ModelLocator.commandLineDirectory,
                                       environment: [String: String] = ProcessInfo.processInfo.environment,
                                       currentDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                                       executable: URL? = Bundle.main.executableURL) throws -> URL {
        try locate(explicit: explicit, environment: environment, currentDirectory: currentDirectory, executable: executable).url
    }

    /// The models directory and how it was found.
    public static func locate(explicit: String? = ModelLocator.commandLineDirectory,
                              environment: [String: String] = ProcessInfo.processInfo.environment,
                              currentDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                              executable: URL? = Bundle.main.executableURL) throws -> (url: URL, origin: Origin) {
        if let explicit, !explicit.isEmpty {
            let url = URL(fileURLWithPath: explicit, relativeTo: currentDirectory).standardizedFileURL
            guard isModelDirectory(url) else {
                throw NotFound(searched: [url.path], reason: "--models-dir \(explicit) holds none of \(markers.joined(separator: ", "))")
            }
            return (url, .option)
        }
        if let env = environment["LUMIERE_MODELS"], !env.isEmpty {
            let url = URL(fileURLWithPath: env, relativeTo: currentDirectory).standardizedFileURL
            guard isModelDirectory(url) else {
                throw NotFound(searched: [url.path], reason: "LUMIERE_MODELS=\(env) holds none of \(markers.joined(separator: ", "))")
            }
            return (url, .environment)
        }
        let found = defaultCandidates(currentDirectory: currentDirectory, executable: executable)
        if let hit = found.first(where: { isModelDirectory($0.url) }) { return hit }
        throw NotFound(searched: found.map(\.url.path), reason: "neither --models-dir nor LUMIERE_MODELS is set and no default location holds models")
    }

    /// Places 3–5 of the search order, in order.
    static func defaultCandidates(currentDirectory: URL, executable: URL?) -> [(url: URL, origin: Origin)] {
        var candidates: [(url: URL, origin: Origin)] = []
        let exeDir = executable?.resolvingSymlinksInPath().deletingLastPathComponent()
        if let exeDir {
            // <prefix>/bin/lumiere-coordinator → <prefix>/share/lumiere/models
            candidates.append((exeDir.appendingPathComponent("../share/lumiere/models"), .installed))
        }
        candidates.append((currentDirectory.appendingPathComponent("models"), .workingDirectory))
        // From the executable (e.g. <repo>/.build/release/lumiere-worker) up to the checkout root.
        if var dir = exeDir {
            for _ in 0..<5 {
                if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
                    candidates.append((dir.appendingPathComponent("models"), .checkout))
                    break
                }
                dir = dir.deletingLastPathComponent()
            }
        }
        var seen = Set<String>()
        return candidates.map { ($0.url.standardizedFileURL, $0.origin) }.filter { seen.insert($0.url.path).inserted }
    }

    static func isModelDirectory(_ url: URL) -> Bool {
        markers.contains { FileManager.default.fileExists(atPath: url.appendingPathComponent($0).path) }
    }

    /// What is wrong with one model file, if anything.
    public enum FileProblem: Sendable, Equatable {
        case missing
        /// The size differs from the catalogue's.
        case wrongSize(actual: Int, expected: Int)
        /// Same size, different SHA-256 (only when hashes are checked).
        case wrongHash(actual: String)
    }

    /// Checks `file` in `directory`: existence and size, and the SHA-256 when `sha256` (a hasher) is given.
    public static func problem(with file: ModelFile, in directory: URL, sha256: ((URL) throws -> String)? = nil) -> FileProblem? {
        let url = directory.appendingPathComponent(file.path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue,
              let size = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber else { return .missing }
        if size.intValue != file.size { return .wrongSize(actual: size.intValue, expected: file.size) }
        if let sha256 {
            guard let digest = try? sha256(url) else { return .missing }
            if digest != file.sha256 { return .wrongHash(actual: digest) }
        }
        return nil
    }

    /// The `.param` and `.bin` of `stem` (a path of `model`'s files without extension) in `directory`, after checking
    /// that both exist with the catalogue's size; otherwise the one sentence that names the file and the fix.
    public static func graphFiles(_ model: ModelEntry, stem: String, in directory: URL) throws -> (param: URL, bin: URL) {
        for ext in ["param", "bin"] {
            let path = stem + "." + ext
            let url = directory.appendingPathComponent(path)
            guard let file = model.file(path) else { throw ModelFileError.missing(path: url.path, model: model.name) }
            switch problem(with: file, in: directory) {
            case nil: continue
            case .missing: throw ModelFileError.missing(path: url.path, model: model.name)
            case let .wrongSize(actual, expected): throw ModelFileError.damaged(path: url.path, model: model.name, detail: "\(actual) bytes, expected \(expected)")
            case let .wrongHash(actual): throw ModelFileError.damaged(path: url.path, model: model.name, detail: "SHA-256 \(actual)")
            }
        }
        return (directory.appendingPathComponent(stem + ".param"), directory.appendingPathComponent(stem + ".bin"))
    }

    /// `graphFiles` with its errors mapped to the caller's own error type.
    public static func graphFiles(_ model: ModelEntry, stem: String, in directory: URL, missing: (String) -> Error,
                                  damaged: (String, String) -> Error) throws -> (param: URL, bin: URL) {
        do {
            return try graphFiles(model, stem: stem, in: directory)
        } catch let error as ModelFileError {
            switch error {
            case let .missing(path, _): throw missing(path)
            case let .damaged(path, _, detail): throw damaged(path, detail)
            }
        }
    }
}

/// A model file that is not there or not what the catalogue says: names the file and what fixes it.
public enum ModelFileError: Error, CustomStringConvertible, Equatable {
    case missing(path: String, model: String)
    case damaged(path: String, model: String, detail: String)

    public var path: String {
        switch self {
        case let .missing(path, _), let .damaged(path, _, _): return path
        }
    }

    public var description: String {
        switch self {
        case let .missing(path, model):
            return "model file \(path) (model \(model)) is missing — \(ModelLocator.fix)"
        case let .damaged(path, model, detail):
            return "model file \(path) (model \(model)) is damaged (\(detail)) — \(ModelLocator.fix)"
        }
    }
}
