import ArgumentParser
import Foundation
import Transport

/// `lumiere-coordinator keygen --name NAME --output-dir DIR`: writes NAME.pub and NAME.key (mode 0600).
/// Run once for the coordinator and once per worker; list the workers' .pub files on the coordinator.
public struct KeygenCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Write a CURVE key pair (NAME.pub to share, NAME.key to keep) for the farm.")

    @Option(help: "Base name of the key files.")
    var name: String = "coordinator"

    @Option(help: "Directory to write the key files into.")
    var outputDir: String = "."

    public init() {}

    public func run() throws {
        let files = try CurveKeyPair.generate().write(to: URL(fileURLWithPath: outputDir), name: name)
        print("public key: \(files.publicFile.path)\nsecret key: \(files.secretFile.path) (keep it private)")
    }
}
