import Foundation

/// The SPIR-V of the shaders in GPU/Shaders, compiled at build time by the ShaderCompiler plugin into
/// `generatedShaders` (name → base64; decoded here once).
enum ShaderLibrary {
    /// Whether this build carries shaders (glslangValidator was found when it was built).
    static var isAvailable: Bool { generatedShadersCompiler != nil }

    private static let table: [String: [UInt32]] = {
        var table: [String: [UInt32]] = [:]
        for (name, base64) in generatedShaders {
            guard let data = Data(base64Encoded: base64), data.count % 4 == 0 else { continue }
            table[name] = data.withUnsafeBytes { raw in (0..<data.count / 4).map { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) } }
        }
        return table
    }()

    static func spirv(_ name: String) throws -> [UInt32] {
        guard isAvailable else { throw GPUError.shader("this build has no GPU shaders: install glslang-tools and rebuild") }
        guard let code = table[name], code.first == 0x0723_0203 else {
            throw GPUError.shader("shader '\(name)' is not in this build (GPU/Shaders/\(name).comp): rebuild")
        }
        return code
    }
}
