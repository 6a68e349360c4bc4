import Tributary

/// Building blocks of the dashboard's server-rendered pages. Every text that comes from Redis goes through
/// ``escape(_:)``.
enum HTML {
    /// `text` safe inside an element or a quoted attribute.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// A whole page: header with navigation, a notice if any, the body.
    static func page(title: String, body: String, notice: String? = nil, readOnly: Bool, extraHead: String = "") -> String {
        let banner = readOnly ? #"<span class="badge">read-only</span>"# : ""
        let flash = notice.map { #"<p class="notice">\#(escape($0))</p>"# } ?? ""
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) · Tributary</title>
            <link rel="stylesheet" href="/assets/dashboard.css"><link rel="icon" href="/assets/icon.svg" type="image/svg+xml">\(extraHead)
            </head><body>
            <header><a class="brand" href="/">Tributary</a> <nav><a href="/">Queues</a> <a href="/runs">Flow runs</a></nav> \(banner)</header>
            <main>\(flash)
            <h1>\(escape(title))</h1>
            \(body)
            </main>
            <script src="/assets/dashboard.js"></script>
            </body></html>
            """
    }

    /// A link.
    static func link(_ href: String, _ text: String, className: String? = nil) -> String {
        let classAttribute = className.map { #" class="\#($0)""# } ?? ""
        return #"<a href="\#(escape(href))"\#(classAttribute)>\#(escape(text))</a>"#
    }

    /// A table; cells are HTML already.
    static func table(_ header: [String], _ rows: [[String]], id: String? = nil) -> String {
        let idAttribute = id.map { #" id="\#($0)""# } ?? ""
        let head = header.map { "<th>\(escape($0))</th>" }.joined()
        let body = rows.map { "<tr>" + $0.map { "<td>\($0)</td>" }.joined() + "</tr>" }.joined(separator: "\n")
        return "<table\(idAttribute)><thead><tr>\(head)</tr></thead><tbody>\n\(body)\n</tbody></table>"
    }

    /// A POST form with the CSRF token and hidden fields, as one button.
    static func actionForm(_ action: String, label: String, csrf: String, fields: [(String, String)] = [],
                           danger: Bool = false) -> String {
        let hidden = ([("csrf", csrf)] + fields).map {
            #"<input type="hidden" name="\#(escape($0.0))" value="\#(escape($0.1))">"#
        }.joined()
        let buttonClass = danger ? "danger" : "action"
        return #"<form method="post" action="\#(escape(action))" class="inline">\#(hidden)<button type="submit" class="\#(buttonClass)" data-action="\#(escape(label.lowercased()))">\#(escape(label))</button></form>"#
    }

    /// A JSON value, pretty-printed in a `<pre>`.
    static func json(_ value: JSONValue?) -> String {
        guard let value else { return "<p class=\"muted\">none</p>" }
        return "<pre>\(escape(value.prettyPrinted()))</pre>"
    }

    /// Epoch milliseconds as `2025-01-31 12:34:56Z`.
    static func time(_ milliseconds: Int64?) -> String {
        guard let milliseconds, milliseconds > 0 else { return "–" }
        var seconds = Int(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    /// A duration for people: `850ms`, `12.3s`, `4m 05s`, `2h 03m`.
    static func duration(milliseconds: Int64) -> String {
        if milliseconds < 1000 { return "\(max(0, milliseconds))ms" }
        if milliseconds < 60_000 { return "\(milliseconds / 1000).\(milliseconds % 1000 / 100)s" }
        let seconds = milliseconds / 1000
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        if seconds < 3600 { return "\(seconds / 60)m \(two(seconds % 60))s" }
        return "\(seconds / 3600)h \(two(seconds / 60 % 60))m"
    }

    /// A state name as a coloured label.
    static func state(_ state: JobState) -> String {
        let word = FlowRunView.word(for: state)
        return #"<span class="state state-\#(word)">\#(word)</span>"#
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension Duration {
    /// Whole milliseconds.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
