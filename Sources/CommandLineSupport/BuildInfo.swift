/// What `--version` prints on both executables: the release version and the git commit the build came from.
public enum BuildInfo {
    /// Lumière's release version; raised by hand at a release. The commit says exactly which code a binary is.
    public static let version = "0.1.0"

    /// The commit, set by each executable's `main.swift` from its generated `gitCommit` (Plugins/GitCommit) before
    /// the command is parsed; nil: built outside a git checkout. Kept out of this module so that a new commit
    /// recompiles only the executables' one-file modules.
    public nonisolated(unsafe) static var commit: String?

    /// `0.1.0 (commit 0123…)`, or `(unknown commit: …)` for a build outside git (a tarball), said so rather than guessed.
    public static var versionLine: String {
        "\(version) (\(commit.map { "commit \($0)" } ?? "unknown commit: built outside a git checkout"))"
    }
}
