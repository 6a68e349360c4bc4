import Foundation

extension DashboardRoutes {
    /// The cookie a browser gets from `/?token=T`, so that links keep working without a header.
    static let tokenCookie = "tributary_token"

    /// `nil` when the request may go on; otherwise the refusal (401 with what to send).
    func accessRefusal(_ request: DashboardRequest) -> DashboardResponse? {
        switch configuration.access {
        case .open:
            return nil
        case .token(let token):
            if let header = request.authorization, header.hasPrefix("Bearer "),
               Self.same(String(header.dropFirst(7)), token) {
                return nil
            }
            if let cookie = request.cookies[Self.tokenCookie], Self.same(cookie, token) { return nil }
            if request.method == .get, let given = request.query["token"], Self.same(given, token) {
                // Remember it in a cookie and load the page again without the token in the address bar.
                var response = DashboardResponse.redirect(request.path)
                response.headers.append(("Set-Cookie",
                                         "\(Self.tokenCookie)=\(URLText.encode(token)); Path=/; HttpOnly; SameSite=Strict"))
                return response
            }
            return .text("unauthorized: send Authorization: Bearer <token>, or open /?token=<token> once in a browser\n",
                         status: 401)
        case .basic(let user, let password):
            if let header = request.authorization, header.hasPrefix("Basic "),
               let decoded = Data(base64Encoded: String(header.dropFirst(6))),
               let pair = String(data: decoded, encoding: .utf8), Self.same(pair, "\(user):\(password)") {
                return nil
            }
            var response = DashboardResponse.text("unauthorized: this dashboard needs its user name and password\n",
                                                  status: 401)
            response.headers.append(("WWW-Authenticate", #"Basic realm="tributary", charset="UTF-8""#))
            return response
        }
    }

    /// `nil` when a POST may change something; otherwise why not.
    func actionRefusal(_ request: DashboardRequest) -> DashboardResponse? {
        if readOnly {
            return errorPage("the dashboard runs with --read-only: actions are disabled", status: 403)
        }
        guard let given = request.form["csrf"], Self.same(given, csrfToken) else {
            return errorPage("the form's CSRF token is missing or out of date (the dashboard restarted?): "
                + "reload the page and try again", status: 403)
        }
        return nil
    }

    /// Compares secrets in time that does not depend on where they differ.
    static func same(_ given: String, _ expected: String) -> Bool {
        let a = Array(given.utf8), b = Array(expected.utf8)
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<b.count { difference |= (index < a.count ? a[index] : 0) ^ b[index] }
        return difference == 0
    }
}
