import Foundation
import Testing
@testable import Tributary

/// scripts/install.sh, driven as a user would: into a fresh prefix, twice, then `--uninstall`. It installs the
/// `tributary` built beside the tests (`--binary`), so the test costs no release build; the release build itself
/// is the script's default and is exercised by hand (see the README's "Install").
@Suite("CLI install script")
struct CLIInstallTests {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    private func install(_ arguments: [String]) async throws -> TestProcessResult {
        try await TestProcess.runDetached("bash", [Self.root + "/scripts/install.sh"] + arguments, timeout: .seconds(180))
    }

    private func contents(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    private func permissions(_ path: String) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o777
    }

    @Test("installs the CLI and completions into a prefix, runs a flow from another directory, reinstalls, uninstalls")
    func installRunUninstall() async throws {
        let prefix = try makeScratchDirectory() + "/prefix"
        defer { try? FileManager.default.removeItem(atPath: (prefix as NSString).deletingLastPathComponent) }
        let binary = prefix + "/bin/tributary"
        let completions = [
            prefix + "/share/bash-completion/completions/tributary": "-F _tributary tributary",
            prefix + "/share/zsh/site-functions/_tributary": "#compdef tributary",
            prefix + "/share/fish/vendor_completions.d/tributary.fish": "complete -c 'tributary'",
        ]

        let first = try await install(["--prefix", prefix, "--binary", CLIProcess.path])
        #expect(first.succeeded, "\(first)")
        #expect(first.stdout.contains("installed \(binary)"), "\(first)")
        #expect(permissions(binary) == 0o755)
        for (file, marker) in completions {
            #expect(permissions(file) == 0o644, "\(file)")
            #expect(contents(file)?.contains(marker) == true, "\(file) lacks \(marker)")
            #expect(contents(file)?.contains("worker") == true, "\(file) does not complete the subcommands")
        }

        let version = try await CLIProcess.run(["--version"], in: "/", executable: binary)
        #expect(version.status == 0, "\(version)")
        #expect(version.stdout.hasPrefix(Tributary.version + " (commit "), "\(version)")

        // From a directory that is not the clone: the flow file by absolute path, the embedded Redis in that directory.
        try await withCLIDirectory { directory in
            let run = try await CLIProcess.run(["run", Self.root + "/flows/hello.json", "--work", "--allow-commands"],
                                               in: directory, timeout: .seconds(120), executable: binary)
            #expect(run.status == 0, "\(run)")
            #expect(run.stdout.contains("(flow hello): completed · 3 nodes: 3 completed"), "\(run)")
            #expect(run.stdout.contains("{\"published\":\"Hello, world!\"}"), "\(run)")
            #expect(FileManager.default.fileExists(atPath: directory + "/.tributary/redis.sock"))
        }

        // Idempotent: the same files again, and no complaint.
        let before = completions.keys.map(contents)
        let second = try await install(["--prefix", prefix, "--binary", CLIProcess.path])
        #expect(second.succeeded, "\(second)")
        #expect(completions.keys.map(contents) == before)
        #expect(permissions(binary) == 0o755)
        #expect(FileManager.default.contentsEqual(atPath: binary, andPath: CLIProcess.path))

        let removal = try await install(["--prefix", prefix, "--uninstall"])
        #expect(removal.succeeded, "\(removal)")
        #expect(removal.stdout.contains("removed \(binary)"), "\(removal)")
        for file in [binary] + completions.keys {
            #expect(!FileManager.default.fileExists(atPath: file), "\(file) is still there")
        }
        #expect(!FileManager.default.fileExists(atPath: prefix + "/share/zsh"))
        let again = try await install(["--prefix", prefix, "--uninstall"])
        #expect(again.succeeded && !again.stdout.contains("removed"), "\(again)")
    }

    @Test("an unknown option or configuration is refused with exit 2 and nothing is installed")
    func badOptions() async throws {
        let prefix = try makeScratchDirectory() + "/prefix"
        defer { try? FileManager.default.removeItem(atPath: (prefix as NSString).deletingLastPathComponent) }
        let unknown = try await install(["--prefix", prefix, "--frobnicate"])
        #expect(unknown.status == 2 && unknown.stderr.contains("unknown option '--frobnicate'"), "\(unknown)")
        let configuration = try await install(["--prefix", prefix, "--configuration", "fast"])
        #expect(configuration.status == 2 && configuration.stderr.contains("release or debug"), "\(configuration)")
        let missing = try await install(["--prefix", prefix, "--binary", prefix + "/nowhere"])
        #expect(missing.status == 2 && missing.stderr.contains("is not an executable"), "\(missing)")
        #expect(!FileManager.default.fileExists(atPath: prefix + "/bin/tributary"))
    }
}
