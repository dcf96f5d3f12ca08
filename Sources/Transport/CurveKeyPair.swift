import Foundation

/// A CURVE key pair in Z85 text (40 characters each), as libzmq and `lumiere-coordinator keygen` write them.
public struct CurveKeyPair: Equatable, Sendable {
    public let publicKey: String
    public let secretKey: String

    public init(publicKey: String, secretKey: String) throws {
        self.publicKey = publicKey.trimmingCharacters(in: .whitespacesAndNewlines)
        self.secretKey = secretKey.trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try CurveKeyPair.decodeZ85Key(self.publicKey)
        _ = try CurveKeyPair.decodeZ85Key(self.secretKey)
    }

    func publicKeyBytes() throws -> [UInt8] { try CurveKeyPair.decodeZ85Key(publicKey) }
    func secretKeyBytes() throws -> [UInt8] { try CurveKeyPair.decodeZ85Key(secretKey) }

    /// Writes `<name>.pub` (shareable) and `<name>.key` (secret, mode 0600) into `directory`.
    /// Returns the two file URLs. Refuses to overwrite an existing secret key.
    @discardableResult
    public func write(to directory: URL, name: String) throws -> (publicFile: URL, secretFile: URL) {
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        let publicFile = directory.appendingPathComponent("\(name).pub")
        let secretFile = directory.appendingPathComponent("\(name).key")
        guard !fm.fileExists(atPath: secretFile.path) else {
            throw TransportError.invalidKey("\(secretFile.path) exists already; remove it first to replace the key")
        }
        // The public half too: a NAME.pub there without NAME.key is someone's key (a worker's, copied in for the
        // allow-list), and replacing it would silently lock that worker out.
        guard !fm.fileExists(atPath: publicFile.path) else {
            throw TransportError.invalidKey("\(publicFile.path) exists already; remove it first or choose another --name")
        }
        guard fm.createFile(atPath: secretFile.path, contents: Data((secretKey + "\n").utf8),
                            attributes: [.posixPermissions: 0o600]) else {
            throw TransportError.invalidKey("cannot write \(secretFile.path): check the directory is writable")
        }
        try Data((publicKey + "\n").utf8).write(to: publicFile)
        return (publicFile, secretFile)
    }

    /// Loads a pair from `<base>.key` and `<base>.pub` (the files `write` produces).
    public static func load(secretFile: URL, publicFile: URL) throws -> CurveKeyPair {
        try CurveKeyPair(publicKey: try readKeyFile(publicFile), secretKey: try readKeyFile(secretFile))
    }

    /// Reads every `*.pub` file in `directory` (the workers a coordinator accepts), sorted by file name.
    public static func readPublicKeys(directory: URL) throws -> [String] { try readNamedPublicKeys(directory: directory).map(\.key) }

    /// `readPublicKeys` with each key's file name without `.pub` (who a key is, in logs).
    public static func readNamedPublicKeys(directory: URL) throws -> [(name: String, key: String)] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory.path) } catch {
            throw TransportError.invalidKey("cannot list worker keys in \(directory.path): \(error.localizedDescription)")
        }
        let keys = try names.filter { $0.hasSuffix(".pub") }.sorted().map {
            (name: String($0.dropLast(".pub".count)), key: try readKeyFile(directory.appendingPathComponent($0)))
        }
        guard !keys.isEmpty else {
            throw TransportError.invalidKey("no .pub files in \(directory.path): copy each worker's NAME.pub there")
        }
        return keys
    }

    /// Reads one Z85 public key file (e.g. a worker's `.pub` listed on the coordinator).
    public static func readKeyFile(_ url: URL) throws -> String {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TransportError.invalidKey("cannot read key file \(url.path): \(error.localizedDescription)")
        }
        guard data.count <= 256 else { throw TransportError.invalidKey("\(url.path) is \(data.count) bytes; a key file holds 40 characters") }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try decodeZ85Key(text)
        return text
    }
}
