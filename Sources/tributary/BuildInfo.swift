import Tributary

/// What `tributary --version` prints: the library version and the commit the binary was built from.
///
/// `scripts/install.sh` generates `Generated/BuildStamp.swift` (git's commit, or `TRIBUTARY_COMMIT`, or "unknown"
/// in a tarball without `.git`) and builds with `TRIBUTARY_BUILD_STAMP=1`; a plain `swift build` has no stamp.
enum BuildInfo {
    #if TRIBUTARY_BUILD_STAMP
    static let commit = BuildStamp.commit
    #else
    static let commit = "unknown"
    #endif

    /// For example `0.1.0 (commit 62e358d1a2b3)`.
    static let versionDescription = "\(Tributary.version) (commit \(commit))"
}
