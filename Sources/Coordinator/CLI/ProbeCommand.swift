import ArgumentParser
import Foundation
import Media

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Show a media file's streams, sizes, frame rates and durations (exact rationals).")

    @Argument(help: "A media file.")
    var input: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        try failing {
            let media = try MediaInput(path: input)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(media.info), as: UTF8.self))
                return
            }
            let info = media.info
            print("\(info.path): \(info.container), duration \(info.duration.map { "\($0) s (\(String(format: "%.3f", $0.doubleValue)) s)" } ?? "unknown")")
            for s in info.streams {
                var line = "  #\(s.index) \(s.kind.rawValue) \(s.codec)"
                if let size = s.size { line += " \(size)" }
                if let pf = s.pixelFormat { line += " \(pf)" }
                if let order = s.fieldOrder, order.isInterlaced { line += " interlaced (\(order.rawValue))" }
                if let r = s.baseFrameRate { line += " base rate \(r)" }
                if let turn = s.rotation { line += " shown rotated \(turn)°" }
                if let r = s.averageFrameRate { line += " avg rate \(r)" }
                if let rate = s.sampleRate { line += " \(rate) Hz" }
                if let ch = s.channels { line += " \(ch) ch" }
                if let d = s.duration { line += " duration \(String(format: "%.3f", d.doubleValue)) s" }
                if let n = s.declaredFrameCount { line += " \(n) frames" }
                print(line)
            }
        }
    }
}
