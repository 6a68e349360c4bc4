import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Separate "hosts" on one machine for multi-host tests: each is a network namespace of its own (`ip netns`),
/// joined to the test's namespace by a veth pair on a /30 link-local subnet. A process started in a host reaches
/// the test's namespace only over TCP to ``Host/gateway``; it shares nothing else on the network with it.
///
/// Creating namespaces needs CAP_SYS_ADMIN and CAP_NET_ADMIN (root here and in CI); ``available`` says whether
/// this machine allows it, and tests are skipped with a message where it does not.
final class TestHosts: Sendable {
    /// One namespace and its link.
    struct Host: Sendable {
        /// The namespace's name (`ip netns exec NAME …`).
        let namespace: String
        /// The host's own address, inside its namespace.
        let address: String
        /// The test namespace's end of the link: where the host reaches servers the test started.
        let gateway: String
        /// The veth end left in the test namespace.
        let link: String

        /// `ip netns exec` arguments that run `executable arguments` in this host.
        func command(_ executable: String, _ arguments: [String]) -> [String] {
            ["netns", "exec", namespace, executable] + arguments
        }
    }

    let hosts: [Host]

    private init(hosts: [Host]) { self.hosts = hosts }

    /// Whether namespaces can be created here: makes one and deletes it.
    static let available: Bool = {
        let probe = "trib-probe-\(getpid())"
        guard (try? TestProcess.run("ip", ["netns", "add", probe]))?.succeeded == true else { return false }
        _ = try? TestProcess.run("ip", ["netns", "delete", probe])
        return true
    }()

    /// Creates `count` hosts (at most 60), named after this process so that parallel test processes never meet.
    /// Host `i` is 169.254.(100+i).2, its gateway 169.254.(100+i).1. Removes whatever was made if a step fails.
    static func create(count: Int) throws -> TestHosts {
        precondition((1...60).contains(count))
        var made: [Host] = []
        do {
            for index in 0..<count {
                let tag = "\(getpid() % 100_000)x\(index)"
                let host = Host(namespace: "trib-\(tag)", address: "169.254.\(100 + index).2",
                                gateway: "169.254.\(100 + index).1", link: "tv\(tag)")
                let peer = "tp\(tag)"
                try ip(["netns", "add", host.namespace])
                made.append(host)
                try ip(["link", "add", host.link, "type", "veth", "peer", "name", peer])
                try ip(["link", "set", peer, "netns", host.namespace])
                try ip(["addr", "add", host.gateway + "/30", "dev", host.link])
                try ip(["link", "set", host.link, "up"])
                try ip(host.command("ip", ["addr", "add", host.address + "/30", "dev", peer]))
                try ip(host.command("ip", ["link", "set", peer, "up"]))
                try ip(host.command("ip", ["link", "set", "lo", "up"]))
            }
            return TestHosts(hosts: made)
        } catch {
            TestHosts(hosts: made).remove()
            throw error
        }
    }

    /// Deletes the namespaces (which deletes their veth pairs too).
    func remove() {
        for host in hosts {
            _ = try? TestProcess.run("ip", ["link", "delete", host.link])
            _ = try? TestProcess.run("ip", ["netns", "delete", host.namespace])
        }
    }

    private static func ip(_ arguments: [String]) throws {
        _ = try TestProcess.runChecked("ip", arguments)
    }
}
