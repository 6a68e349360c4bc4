/// Finds the valid name closest to a misspelt one, for "did you mean …?" hints.
enum NearestName {
    /// The candidate closest to `word`, or `nil` when none is close enough to be a likely typo.
    ///
    /// Distance is the optimal-string-alignment edit distance (insertions, deletions, substitutions and swaps of
    /// neighbours each count 1) between the lowercased words, so `neds` → `needs`, `prioirty` → `priority` and
    /// `QueueName` → `queueName` are found. A candidate is close enough when the distance is at most a third of
    /// the longer word's length (at least 1, at most 3). Ties go to the earlier candidate.
    static func suggestion(for word: String, among candidates: some Sequence<String>) -> String? {
        let target = Array(word.lowercased())
        var best: (name: String, distance: Int)?
        for candidate in candidates where candidate != word {
            let letters = Array(candidate.lowercased())
            let limit = min(3, max(1, max(target.count, letters.count) / 3))
            let distance = editDistance(target, letters)
            if distance <= limit, distance < (best?.distance ?? .max) {
                best = (candidate, distance)
            }
        }
        return best?.name
    }

    /// "; did you mean 'x'?" when a suggestion exists, otherwise "".
    static func hint(for word: String, among candidates: some Sequence<String>) -> String {
        suggestion(for: word, among: candidates).map { "; did you mean '\($0)'?" } ?? ""
    }

    /// Optimal-string-alignment distance between two character arrays.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    value = min(value, previous2[j - 2] + 1)
                }
                current[j] = value
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
