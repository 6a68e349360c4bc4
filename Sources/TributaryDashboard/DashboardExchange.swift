/// A request as the dashboard's routes see it: method, decoded path segments, query, form body and the headers
/// that matter for access.
struct DashboardRequest: Sendable {
    enum Method: Sendable { case get, post, other }

    let method: Method
    /// The path split at `/`, each segment percent-decoded; empty for `/`.
    let segments: [String]
    /// The raw path, for redirects.
    let path: String
    let query: FormFields
    /// The body of a POST (`application/x-www-form-urlencoded`).
    let form: FormFields
    let authorization: String?
    let cookies: [String: String]

    init(method: Method, path: String, query: String?, body: String? = nil, authorization: String? = nil,
         cookie: String? = nil) {
        self.method = method
        self.path = path
        self.segments = path.split(separator: "/").map { FormFields.decode($0.replacingOccurrences(of: "+", with: "%2B")[...]) }
        self.query = FormFields(query)
        self.form = FormFields(body)
        self.authorization = authorization
        var cookies: [String: String] = [:]
        for part in (cookie ?? "").split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2 { cookies[String(pair[0])] = FormFields.decode(pair[1]) }
        }
        self.cookies = cookies
    }
}

/// What the dashboard answers.
struct DashboardResponse: Sendable {
    var status: Int
    var contentType: String
    var body: String
    var headers: [(String, String)] = []

    static func html(_ body: String, status: Int = 200) -> DashboardResponse {
        DashboardResponse(status: status, contentType: "text/html; charset=utf-8", body: body)
    }

    static func text(_ body: String, status: Int = 200, contentType: String = "text/plain; charset=utf-8") -> DashboardResponse {
        DashboardResponse(status: status, contentType: contentType, body: body)
    }

    /// 303 See Other: after a POST, the browser loads `location` with GET.
    static func redirect(_ location: String) -> DashboardResponse {
        DashboardResponse(status: 303, contentType: "text/plain; charset=utf-8", body: "see \(location)\n",
                          headers: [("Location", location)])
    }
}
