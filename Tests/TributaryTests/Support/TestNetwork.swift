import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loopback helpers for the test harness: free-port selection and a tiny blocking RESP probe.
enum TestNetwork {
    /// Ports already handed out by ``freePort()`` in this process, so that two servers started
    /// concurrently never race for the same number.
    private static let handedOut = Mutex<Set<Int>>([])

    /// Returns a TCP port that is currently free on 127.0.0.1 (and on ::1 when IPv6 is available),
    /// found by binding to port 0 and reading the kernel's choice. The port is released before
    /// returning, so a caller must still handle the rare "address in use" race.
    static func freePort() throws -> Int {
        for _ in 0..<50 {
            let port = try ephemeralIPv4Port()
            guard ipv6LoopbackPortIsFree(port) else { continue }
            let fresh = handedOut.withLock { $0.insert(port).inserted }
            if fresh { return port }
        }
        throw TestProcessError.systemCallFailed("picking a free port", errno: EADDRINUSE)
    }

    /// Asks the kernel for an unused port on 127.0.0.1 by binding a socket to port 0.
    private static func ephemeralIPv4Port() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestProcessError.systemCallFailed("socket", errno: errno) }
        defer { close(fd) }
        var address = loopbackIPv4(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw TestProcessError.systemCallFailed("bind(127.0.0.1:0)", errno: errno) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw TestProcessError.systemCallFailed("getsockname", errno: errno) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether `port` can be bound on ::1 (also `true` when the host has no IPv6 loopback).
    private static func ipv6LoopbackPortIsFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        var only: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &only, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = in_port_t(UInt16(port)).bigEndian
        address.sin6_addr = in6addr_loopback
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
            }
        }
        return bound == 0 || errno != EADDRINUSE
    }

    /// A `sockaddr_in` for 127.0.0.1 and `port`.
    private static func loopbackIPv4(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian
        return address
    }

    /// Connects to 127.0.0.1:`port`, returning the connected descriptor or `nil` (refused, timed out, …).
    static func connectTCP(port: Int, timeout: Duration = .milliseconds(250)) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        setTimeouts(fd, timeout)
        var address = loopbackIPv4(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { close(fd); return nil }
        return fd
    }

    /// Connects to the unix-domain socket at `path`, returning the descriptor or `nil`.
    static func connectUnix(path: String, timeout: Duration = .milliseconds(250)) -> Int32? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        setTimeouts(fd, timeout)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else { close(fd); return nil }
        return fd
    }

    /// Sends a RESP `PING` on a connected descriptor and returns the first reply line
    /// (for example `+PONG`, `-NOAUTH …` or `-LOADING …`), or `nil` if nothing arrived in time.
    /// Closes the descriptor.
    static func ping(_ fd: Int32) -> String? {
        defer { close(fd) }
        let request = Array("*1\r\n$4\r\nPING\r\n".utf8)
        let written = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard written == request.count else { return nil }
        var reply: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256)
        while !reply.contains(UInt8(ascii: "\n")) && reply.count < 4_096 {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                reply.append(contentsOf: chunk[0..<count])
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        guard let end = reply.firstIndex(of: UInt8(ascii: "\r")) ?? reply.firstIndex(of: UInt8(ascii: "\n")) else {
            return nil
        }
        return String(decoding: reply[..<end], as: UTF8.self)
    }

    /// Applies the same send and receive timeout (which also bounds `connect` on Linux) to `fd`.
    private static func setTimeouts(_ fd: Int32, _ timeout: Duration) {
        let (seconds, attoseconds) = timeout.components
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }
}
