import Foundation

/// Finds the directory holding the ncnn model folders (realesr-animevideov3/, waifu2x-upconv7-photo/, …):
/// `$LUMIERE_MODELS` when set, else `./models` (repo-local, filled by setup), else `../shared/models`
/// next to the working directory, else the same two places next to the executable's checkout.
public enum ModelLocator {
    public struct NotFound: Error, CustomStringConvertible, Equatable {
        public let searched: [String]
        public let reason: String
        public var description: String {
            "model directory not found (\(reason)); searched: \(searched.joined(separator: ", ")) — set LUMIERE_MODELS to the folder that holds realesr-animevideov3/ etc., or run scripts/setup.sh"
        }
    }

    /// A folder counts as a model directory when it holds at least one known model folder.
    static let markers = ["realesr-animevideov3", "realesr-general-x4v3", "realesr-general-wdn-x4v3", "waifu2x-upconv7-photo", "rife-v4.0-ncnn"]

    public static func modelsDirectory(environment: [String: String] = ProcessInfo.processInfo.environment,
                                       currentDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                                       executable: URL? = Bundle.main.executableURL) throws -> URL {
        if let env = environment["LUMIERE_MODELS"], !env.isEmpty {
            let url = URL(fileURLWithPath: env, relativeTo: currentDirectory).standardizedFileURL
            guard isModelDirectory(url) else {
                throw NotFound(searched: [url.path], reason: "LUMIERE_MODELS=\(env) holds none of \(markers.joined(separator: ", "))")
            }
            return url
        }
        var candidates = [currentDirectory.appendingPathComponent("models"), currentDirectory.appendingPathComponent("../shared/models")]
        // From the executable (e.g. <repo>/.build/release/lumiere-worker) up to the checkout root.
        if var dir = executable?.deletingLastPathComponent() {
            for _ in 0..<4 {
                if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
                    candidates += [dir.appendingPathComponent("models"), dir.appendingPathComponent("../shared/models")]
                    break
                }
                dir = dir.deletingLastPathComponent()
            }
        }
        let standardized = candidates.map { $0.standardizedFileURL }
        if let found = standardized.first(where: isModelDirectory) { return found }
        throw NotFound(searched: standardized.map(\.path), reason: "LUMIERE_MODELS is not set and no default location holds models")
    }

    static func isModelDirectory(_ url: URL) -> Bool {
        markers.contains { FileManager.default.fileExists(atPath: url.appendingPathComponent($0).path) }
    }
}
