/// SwiftPM links an executable target with `main` renamed to `<module>_main`, which would hide libFuzzer's
/// own `main`; so this entry point hands control to libFuzzer's driver explicitly (same flags, same behaviour).
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

@_cdecl("MessageDecoderFuzzer_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    if argc == 3, let flag = argv?[1], String(cString: flag) == "--write-seeds", let directory = argv?[2] {
        return SeedMessages.write(to: String(cString: directory))
    }
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments, fuzzMessageDecoder)
}
