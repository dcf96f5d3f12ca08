import ArgumentParser
import Foundation
import Planning
import Processors
import Shared

/// `lumiere-coordinator models [--check]`: the model catalogue, where the models were found, and (with
/// `--check`) the SHA-256 of every file.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List the models (name, kind, scales, installed or not, licence, source, cost) and check their files.",
        discussion: """
        The models folder is searched in this order (the first hit wins; the same for restore and lumiere-worker): \
        --models-dir, $LUMIERE_MODELS, the installed share directory <prefix>/share/lumiere/models (beside the \
        executable's <prefix>/bin), ./models, the models/ of the checkout that holds the executable. \
        The models ship in the repository (models/README.md). --check hashes every file (SHA-256) and exits 1 \
        naming each damaged or missing file and the command that fixes it.
        """)

    @Option(help: ArgumentHelp("Folder holding the models (searched first).", valueName: "dir"))
    var modelsDir: String?

    @Flag(help: "Verify the SHA-256 of every model file; exit 1 naming each damaged or missing file.")
    var check = false

    @Flag(help: "Print JSON instead of text.")
    var json = false

    struct Listing: Codable {
        struct Model: Codable {
            var name: String
            var kind: String
            var scales: [Int]
            var noiseLevels: [Int]
            var installed: Bool
            var status: String
            var licence: String
            var source: String
            var secondsPerMegapixel: Double
            var summary: String
            var problems: [String]
        }
        var directory: String?
        var foundBy: String?
        var error: String?
        var models: [Model]
    }

    func run() throws {
        try failing {
            let located: (url: URL, origin: ModelLocator.Origin)?
            var locateError: String?
            do {
                located = try ModelLocator.locate(explicit: modelsDir ?? ModelLocator.commandLineDirectory)
            } catch {
                located = nil
                locateError = "\(error)"
            }
            let hasher: ((URL) throws -> String)? = check ? { url in SHA256.hex(SHA256.hash(try Data(contentsOf: url))) } : nil
            var listing = Listing(directory: located?.url.path, foundBy: located?.origin.rawValue, error: locateError, models: [])
            var damaged: [String] = []
            for entry in ModelCatalogue.all {
                var problems: [String] = []
                if let dir = located?.url {
                    for file in entry.files {
                        let path = dir.appendingPathComponent(file.path).path
                        switch ModelLocator.problem(with: file, in: dir, sha256: hasher) {
                        case nil: break
                        case .missing: problems.append("missing model file \(path)")
                        case let .wrongSize(actual, expected): problems.append("damaged model file \(path) (\(actual) bytes, expected \(expected))")
                        case let .wrongHash(actual): problems.append("damaged model file \(path) (SHA-256 \(actual), expected \(file.sha256))")
                        }
                    }
                }
                let installed = located != nil && problems.isEmpty
                let missingAll = located == nil || problems.count == entry.files.count && problems.allSatisfy { $0.hasPrefix("missing ") }
                let status = installed ? (check ? "installed, SHA-256 verified" : "installed")
                    : missingAll ? "not installed" : "incomplete or damaged (\(problems.count) of \(entry.files.count) files)"
                damaged += problems
                listing.models.append(.init(name: entry.name, kind: entry.kind.rawValue, scales: entry.scales, noiseLevels: entry.noiseLevels,
                                            installed: installed, status: status, licence: entry.licence, source: entry.source,
                                            secondsPerMegapixel: entry.secondsPerMegapixel, summary: entry.summary, problems: problems))
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(listing), as: UTF8.self))
            } else {
                if let located {
                    print("models in \(located.url.path) (found by \(located.origin.rawValue))")
                } else {
                    print("models: none found")
                }
                for m in listing.models {
                    let scales = m.scales.isEmpty ? "any time t" : m.scales.map { "×\($0)" }.joined(separator: " ")
                    let noise = m.noiseLevels.isEmpty ? "" : ", --noise \("\(m.noiseLevels.first!)…\(m.noiseLevels.last!)")"
                    print("")
                    print("\(m.name)  [\(m.kind), \(scales)\(noise)]  \(m.status)")
                    print("    \(m.summary)")
                    print("    cost: \(m.secondsPerMegapixel) s per megapixel (one core of the development machine)")
                    print("    licence: \(m.licence)")
                    print("    source: \(m.source)")
                    for p in m.problems { print("    \(p)") }
                }
            }
            if let locateError {
                FileHandle.standardError.write(Data("error: \(locateError)\n".utf8))
                throw ExitCode(1)
            }
            if check, !damaged.isEmpty {
                let lines = damaged.map { "error: \($0)" }.joined(separator: "\n")
                FileHandle.standardError.write(Data("\(lines)\nerror: \(damaged.count) model file(s) damaged or missing — \(ModelLocator.fix)\n".utf8))
                throw ExitCode(1)
            }
            if !damaged.isEmpty {
                FileHandle.standardError.write(Data("note: \(damaged.count) model file(s) damaged or missing (listed above) — \(ModelLocator.fix)\n".utf8))
            }
        }
    }
}
