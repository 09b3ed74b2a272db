import Foundation
import XCTest
@testable import ProfileModel

final class JSONScannerTests: XCTestCase {
    /// Runs `body` on a scanner over `text`'s UTF-8 bytes.
    func scan<R>(_ text: String, lenient: Bool = false, maxDepth: Int = 512,
                 _ body: (inout JSONScanner) throws -> R) rethrows -> R {
        try scanBytes(Array(text.utf8), lenient: lenient, maxDepth: maxDepth, body)
    }

    func scanBytes<R>(_ bytes: [UInt8], lenient: Bool = false, maxDepth: Int = 512,
                      _ body: (inout JSONScanner) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { buf in
            var s = JSONScanner(buf, maxDepth: maxDepth)
            s.lenientEOF = lenient
            return try body(&s)
        }
    }

    func offset(of error: Error) -> Int? { (error as? ProfileError)?.offset }

    func testObjectsArraysAndKeys() throws {
        let out: [String] = try scan(#" { "a" : [1, 2.5, -3e2, true, false, null], "b": {"c": "d"}, "e": [] } "#) { s in
            var log: [String] = []
            try s.beginObject()
            while let k = try s.nextKey() {
                let key = k.string
                if key == "a" {
                    try s.beginArray()
                    while try s.nextElement() {
                        switch s.peekKind() {
                        case .number: log.append("n\(try s.readNumber())")
                        case .bool: log.append("b\(try s.readBool())")
                        case .null: XCTAssertTrue(s.readNull()); log.append("null")
                        default: XCTFail("kind")
                        }
                    }
                } else if key == "b" {
                    try s.beginObject()
                    while let k2 = try s.nextKey() { log.append("\(k2.string)=\(try s.readStringValue())") }
                } else {
                    log.append("skip \(key)")
                    try s.skipValue()
                }
            }
            XCTAssertEqual(s.depth, 0)
            s.skipWhitespace()
            XCTAssertTrue(s.atEnd)
            return log
        }
        XCTAssertEqual(out, ["n1.0", "n2.5", "n-300.0", "btrue", "bfalse", "null", "c=d", "skip e"])
    }

    func testStringEscapesSurrogatesAndBadUTF8() throws {
        let v = try scan(#""a\"b\\c\/d\b\f\n\r\t \u00e9 \ud83d\ude00 \ud800 x \udc00""#) { try $0.readStringValue() }
        XCTAssertEqual(v, "a\"b\\c/d\u{08}\u{0C}\n\r\t é 😀 \u{FFFD} x \u{FFFD}")
        // Raw control characters are kept (escaping is the display's job).
        XCTAssertEqual(try scan("\"a\u{01}b\tc\"") { try $0.readStringValue() }, "a\u{01}b\tc")
        // Invalid UTF-8 is replaced, valid multi-byte text passes unchanged.
        let bad: [UInt8] = [0x22, 0x61, 0xFF, 0x62, 0xC3, 0x28, 0x22]
        XCTAssertEqual(try scanBytes(bad) { try $0.readStringValue() }, "a\u{FFFD}b\u{FFFD}(")
        XCTAssertEqual(try scan("\"Ünïcode_entry\"") { try $0.readStringValue() }, "Ünïcode_entry")
        // Escaped and with bad UTF-8 together.
        let both: [UInt8] = Array(#""\n"#.utf8) + [0xFE] + Array(#"z""#.utf8)
        XCTAssertEqual(try scanBytes(both) { try $0.readStringValue() }, "\n\u{FFFD}z")
        // Bad escapes and short \u are errors at the backslash.
        XCTAssertThrowsError(try scan(#""ab\qc""#) { try $0.readString() }) { XCTAssertEqual(self.offset(of: $0), 3) }
        XCTAssertThrowsError(try scan(#""ab\u12"#) { try $0.readString() }) { XCTAssertEqual(self.offset(of: $0), 3) }
        XCTAssertTrue(try scan(#"{"k\u0041y": 1}"#) { s in try s.beginObject(); return try s.nextKey()!.equals("kAy") })
    }

    /// Strings are scanned eight bytes at a time: a quote, backslash or multi-byte character at
    /// every position of a word, and a cut at every length, read as Foundation reads them.
    func testStringsAtEveryAlignment() throws {
        for specials in [#"\""#, #"\\"#, "é", #"\u00e9"#, "€x"] {
            for before in 0..<18 {
                let text = String(repeating: "a", count: before) + specials + String(repeating: "b", count: 17 - before)
                let doc = "[\"" + text + "\", 1]"
                let want = try JSONSerialization.jsonObject(with: Data(doc.utf8)) as! [Any]
                let (got, skipped): (String, Int) = try scan(doc) { s in
                    try s.beginArray()
                    _ = try s.nextElement()
                    let v = try s.readString().string
                    return (v, s.pos)
                }
                XCTAssertEqual(got, want[0] as? String, doc)
                // Skipping it lands where reading it does.
                let afterSkip: Int = try scan(doc) { s in
                    try s.beginArray()
                    _ = try s.nextElement()
                    try s.skipValue()
                    return s.pos
                }
                XCTAssertEqual(afterSkip, skipped, doc)
            }
        }
        // A byte that is not UTF-8 at every position: replaced wherever it falls in a word.
        for before in 0..<18 {
            let text = [UInt8](repeating: 0x61, count: before) + [0xFF] + [UInt8](repeating: 0x62, count: 17 - before)
            let got = try scanBytes([0x22] + text + [0x22]) { Array(try $0.readString().bytes) }
            XCTAssertEqual(got, Array(String(decoding: text, as: UTF8.self).utf8), "0xFF after \(before) bytes")
        }
        for n in 0..<20 {
            let cut = "\"" + String(repeating: "x", count: n)
            XCTAssertThrowsError(try scan(cut) { s in try s.readString() }) { XCTAssertEqual(self.offset(of: $0), 0, cut) }
            XCTAssertThrowsError(try scan("[" + cut) { s in try s.beginArray(); _ = try s.nextElement(); try s.skipValue() }) {
                XCTAssertEqual(self.offset(of: $0), 1, cut)
            }
        }
    }

    func testNumbers() throws {
        let cases: [(String, Double)] = [("0", 0), ("-0.5", -0.5), ("123456789012345", 123456789012345),
                                         ("0.1", 0.1), ("3.14159", 3.14159), ("1e3", 1000), ("2.5E-3", 0.0025),
                                         ("12345678901234567890", 12345678901234567890.0),
                                         ("0.30000000000000004", 0.30000000000000004), ("1.7976931348623157e308", .greatestFiniteMagnitude)]
        for (text, value) in cases {
            XCTAssertEqual(try scan(text) { try $0.readNumber() }, value, text)
        }
        XCTAssertEqual(try scan("1e400") { try $0.readNumber() }, .infinity)
        XCTAssertEqual(try scan("[42]") { s in try s.beginArray(); _ = try s.nextElement(); return try s.readInt() }, 42)
        XCTAssertThrowsError(try scan("  1.5") { try $0.readInt() }) { XCTAssertEqual(self.offset(of: $0), 2) }
        XCTAssertThrowsError(try scan("1e300") { try $0.readInt() })
        XCTAssertThrowsError(try scan("-x") { try $0.readNumber() }) { XCTAssertEqual(self.offset(of: $0), 1) }
        XCTAssertThrowsError(try scan("1.") { try $0.readNumber() })
        XCTAssertThrowsError(try scan("1e+") { try $0.readNumber() })
        XCTAssertEqual(try scan(#""12.5""#) { try $0.readLooseNumber() }, 12.5)
        XCTAssertNil(try scan(#""12x""#) { try $0.readLooseNumber() })
    }

    func testErrorsCarryOffsets() {
        XCTAssertThrowsError(try scan(#"{"a" 1}"#) { s in try s.beginObject(); _ = try s.nextKey() }) {
            XCTAssertEqual(self.offset(of: $0), 5)
        }
        XCTAssertThrowsError(try scan(#"[1 2]"#) { s in try s.beginArray(); while try s.nextElement() { try s.skipValue() } }) {
            XCTAssertEqual(self.offset(of: $0), 3)
        }
        XCTAssertThrowsError(try scan(#"{"a": [1, 2}"#) { try $0.skipValue() }) { XCTAssertEqual(self.offset(of: $0), 11) }
        // A cut input: the error is at the end and says so.
        var eof = false
        XCTAssertThrowsError(try scan(#"{"a": [1, 2"#) { s in
            do { try s.skipValue() } catch { eof = s.hitEOF; throw error }
        }) { XCTAssertEqual(self.offset(of: $0), 11) }
        XCTAssertTrue(eof)
        XCTAssertThrowsError(try scan(#"{"a": "abc"#) { s in try s.beginObject(); _ = try s.nextKey(); _ = try s.readString() }) {
            XCTAssertEqual(self.offset(of: $0), 6)
            XCTAssertTrue(($0 as? ProfileError)?.message.contains("unterminated") ?? false)
        }
        XCTAssertThrowsError(try scan("") { try $0.beginObject() }) { XCTAssertEqual(self.offset(of: $0), 0) }
        XCTAssertThrowsError(try scan("tru") { try $0.skipValue() })
    }

    func testDepthLimitStopsDeepNesting() {
        let deep = String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
        XCTAssertThrowsError(try scan(deep) { try $0.skipValue() }) {
            XCTAssertEqual(self.offset(of: $0), 512)
            XCTAssertTrue(($0 as? ProfileError)?.message.contains("deeper") ?? false)
        }
        XCTAssertThrowsError(try scan(deep, maxDepth: 10) { s in while true { try s.beginArray() } }) {
            XCTAssertEqual(self.offset(of: $0), 10)
        }
        // Within the limit, skipping works.
        let ok = String(repeating: "{\"a\":[", count: 200) + "1" + String(repeating: "]}", count: 200)
        XCTAssertNoThrow(try scan(ok) { s in try s.skipValue(); XCTAssertTrue(s.atEnd) })
    }

    func testLenientEOFClosesCutArrays() throws {
        for text in [#"[{"a":1},{"a":2}"#, #"[{"a":1},{"a":2},"#, "[{\"a\":1},{\"a\":2},\n  ", #"{"x":[{"a":1},{"a":2}"#] {
            let (n, truncated): (Int, Bool) = try scan(text, lenient: true) { s in
                var n = 0
                if s.peekKind() == .object { try s.beginObject(); _ = try s.nextKey() }
                try s.beginArray()
                while try s.nextElement() { try s.skipValue(); n += 1 }
                return (n, s.truncated)
            }
            XCTAssertEqual(n, 2, text)
            XCTAssertTrue(truncated, text)
        }
        // Not lenient: the same input is an error at its end.
        XCTAssertThrowsError(try scan(#"[1,2"#) { s in try s.beginArray(); while try s.nextElement() { try s.skipValue() } }) {
            XCTAssertEqual(self.offset(of: $0), 4)
        }
    }

    /// `appendNumbers` (in runs of `limit`, the rest element by element) reads every array
    /// as `nextElement` and `readNumber` alone do: the same values (bit for bit), the same
    /// end, the same error at the same offset, strict and lenient, wherever it hands over.
    func testPlainNumberRunsReadAsElementByElement() throws {
        let arrays = ["[]", "[ ]", "[1]", "[1,2,3]", "[ 1 , 2 ,\n3 ]", "[1.5,-2,0.25,-0.0,007]", "[1e3,2]", "[1,2E-2]",
                      "[1,null,3]", "[1,true,2]", "[1,2,]", "[1,", "[1", "[1,2", "[1.", "[-", "[-,1]", "[1.,2]", "[.5]",
                      "[123456789012345,1]", "[1234567890123456,1]", "[0.123456789012345,1]", "[1 2]", "[1,,2]",
                      "[1]x", "[1,[2],3]", "[\"a\",1]", "[3.25, 4, 5]  "]
        struct Outcome: Equatable { var values: [UInt64]; var pos: Int; var error: Int? }
        func read(_ text: String, lenient: Bool, runs limit: Int?) -> Outcome {
            scan(text, lenient: lenient) { s in
                var values: [Double] = []
                do {
                    try s.beginArray()
                    while true {
                        if let limit, s.appendNumbers(to: &values, limit: limit) { break }
                        guard try s.nextElement() else { break }
                        if s.peekKind() == .number { values.append(try s.readNumber()) } else { try s.skipValue(); values.append(-99) }
                    }
                    return Outcome(values: values.map(\.bitPattern), pos: s.pos, error: nil)
                } catch {
                    return Outcome(values: values.map(\.bitPattern), pos: -1, error: self.offset(of: error) ?? -2)
                }
            }
        }
        for text in arrays {
            for lenient in [false, true] {
                let want = read(text, lenient: lenient, runs: nil)
                for limit in [1, 2, 1 << 14] {
                    XCTAssertEqual(read(text, lenient: lenient, runs: limit), want, "\(text) lenient \(lenient) limit \(limit)")
                }
            }
        }
    }

    func testTokens() throws {
        let tokens: [JSONToken] = try scan(#"{"a": [1, "x", true, null]}"#) { s in
            var t: [JSONToken] = []
            while true {
                let k = try s.nextToken()
                t.append(k)
                if k == .eof { break }
            }
            return t
        }
        XCTAssertEqual(tokens, [.beginObject, .string, .colon, .beginArray, .number, .comma, .string, .comma,
                                .bool(true), .comma, .null, .endArray, .endObject, .eof])
    }

    func testBOMAndEmptyInput() throws {
        XCTAssertEqual(try scanBytes([0xEF, 0xBB, 0xBF] + Array("[7]".utf8)) { s in
            try s.beginArray(); _ = try s.nextElement(); return try s.readNumber()
        }, 7)
        XCTAssertEqual(scan("") { $0.peekKind() }, .eof)
    }

    func testPrefixHelpers() {
        let text = #"{"$schema": "https://www.speedscope.app/file-format-schema.json", "profiles": [{"type": "sampled", "samp"#
        Array(text.utf8).withUnsafeBytes { p in
            let info = JSONPrefix(p)
            XCTAssertEqual(info.container, .object)
            XCTAssertEqual(info.keys.map(\.key), ["$schema", "profiles"])
            XCTAssertFalse(info.complete)
            XCTAssertEqual(JSONPrefix.string(p, at: info.offset(of: "$schema")!), "https://www.speedscope.app/file-format-schema.json")
            let (keys, whole) = JSONPrefix.firstElementKeys(p, at: info.offset(of: "profiles")!)
            XCTAssertEqual(keys, ["type"])
            XCTAssertFalse(whole)
        }
    }
}
