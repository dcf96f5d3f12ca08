import Shared

/// libFuzzer entry point: any byte string goes to `MessageCodec.decode`. The contract under test:
/// the decoder either returns a message or throws a `ProtocolError` (never traps, never allocates past the
/// limits — ASan and libFuzzer's -rss_limit_mb / -malloc_limit_mb catch that), and whatever it accepts
/// re-encodes to a frame that decodes to the same message.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMessageDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let message = try MessageCodec.decode(bytes)
        let again = MessageCodec.encode(message)
        guard again.count <= FarmProtocol.maxMessageBytes else {
            fatalError("accepted message re-encodes to \(again.count) bytes, past the \(FarmProtocol.maxMessageBytes)-byte limit")
        }
        guard let back = try? MessageCodec.decode(again), back == message else {
            fatalError("accepted message does not survive encode/decode: \(message)")
        }
    } catch is ProtocolError {
        // Rejected with a typed error: the expected outcome for most inputs.
    } catch {
        fatalError("decoder threw an untyped error: \(error)")
    }
    return 0
}
