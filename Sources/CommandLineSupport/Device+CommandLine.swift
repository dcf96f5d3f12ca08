import ArgumentParser
import Foundation
import Processors

/// `--device auto|cpu|gpu|gpu:N` on `lumiere-worker` and `restore`: refused at parse time with the spellings (exit 64),
/// like the other fixed-set options (issue 19); the index is checked against the machine's devices when the process
/// starts, with the devices named.
extension DeviceRequest: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
    public static var allValueStrings: [String] { DeviceRequest.spellings }
    public static var defaultCompletionKind: CompletionKind { .list(["auto", "cpu", "gpu", "gpu:0", "gpu:1"]) }
    public var defaultValueDescription: String { description }
}

/// `--list-devices` on both executables: the CPU engine and every Vulkan device on stdout, one per line, and what
/// `--device auto` picks. A missing loader or driver is a line of the listing (exit 0), not a failure.
public enum DeviceListingCommand {
    public static let help = ArgumentHelp("List the devices --device can use (the CPU engine, each Vulkan device: name, type, memory, fp16, cooperative matrix) and exit.")

    public static func print() {
        FileHandle.standardOutput.write(Data((DeviceListing.lines().joined(separator: "\n") + "\n").utf8))
    }
}
