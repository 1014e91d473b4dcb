import Foundation
import PlasticityBase

/// A mistake in a model file, at a place in it. The loader adds the file's path.
struct ModelFileProblem: Error {
    let location: ModelFileSyntax.Location
    let message: String
}

/// Splits a model file into tokens. Statements end at a line break, except inside
/// parentheses or brackets, so a long equation may continue on the next lines. `#` starts a
/// comment that runs to the end of the line.
struct ModelFileLexer {
    enum Kind: Equatable {
        case identifier(String)
        case number(Double)
        case string(String)
        case symbol(String)
        case lineBreak
        case end
    }

    struct Token {
        let kind: Kind
        let location: ModelFileSyntax.Location
        /// Where the token starts in the file's characters (for statements that take the rest
        /// of a line verbatim).
        let offset: Int

        /// The token as the user wrote it, for messages.
        var text: String {
            switch kind {
            case .identifier(let name): return "'\(name)'"
            case .number(let value): return "'\(formatConstant(value))'"
            case .string(let value): return "\"\(value)\""
            case .symbol(let symbol): return "'\(symbol)'"
            case .lineBreak: return "the end of the line"
            case .end: return "the end of the file"
            }
        }
    }

    static let symbols = ["<=", ">=", "(", ")", "[", "]", ",", "=", "'", "+", "-", "*", "/", "^", "<", ">"]

    let characters: [Character]

    init(_ text: String) { characters = Array(text) }

    func tokens() throws -> [Token] {
        var tokens: [Token] = []
        var index = 0, line = 1, lineStart = 0, depth = 0
        func location(_ at: Int) -> ModelFileSyntax.Location { .init(line: line, column: at - lineStart + 1) }
        while index < characters.count {
            let character = characters[index]
            let start = index
            // isNewline: "\r\n" is one Character, so files saved with CRLF line ends lex alike.
            if character.isNewline {
                if depth == 0, tokens.last.map({ $0.kind != .lineBreak }) ?? false {
                    tokens.append(Token(kind: .lineBreak, location: location(start), offset: start))
                }
                index += 1
                line += 1
                lineStart = index
            } else if character.isWhitespace {
                index += 1
            } else if character == "#" {
                while index < characters.count, !characters[index].isNewline { index += 1 }
            } else if Self.startsIdentifier(character) {
                while index < characters.count, Self.continuesIdentifier(characters[index]) { index += 1 }
                tokens.append(Token(kind: .identifier(String(characters[start..<index])), location: location(start), offset: start))
            } else if character.isASCII, character.isNumber || (character == "." && index + 1 < characters.count && characters[index + 1].isNumber) {
                tokens.append(Token(kind: .number(try number(from: &index, location: location(start))), location: location(start), offset: start))
            } else if character == "\"" {
                index += 1
                while index < characters.count, characters[index] != "\"", !characters[index].isNewline { index += 1 }
                guard index < characters.count, characters[index] == "\"" else {
                    throw ModelFileProblem(location: location(start), message: "a text in quotes is not closed on its line")
                }
                tokens.append(Token(kind: .string(String(characters[(start + 1)..<index])), location: location(start), offset: start))
                index += 1
            } else if let symbol = Self.symbols.first(where: { matches($0, at: index) }) {
                if symbol == "(" || symbol == "[" { depth += 1 }
                if symbol == ")" || symbol == "]" { depth = Swift.max(0, depth - 1) }
                tokens.append(Token(kind: .symbol(symbol), location: location(start), offset: start))
                index += symbol.count
            } else {
                throw ModelFileProblem(location: location(start), message: "unexpected character '\(character)'")
            }
        }
        if tokens.last.map({ $0.kind != .lineBreak }) ?? false {
            tokens.append(Token(kind: .lineBreak, location: location(index), offset: index))
        }
        tokens.append(Token(kind: .end, location: location(index), offset: index))
        return tokens
    }

    /// Whether `text` is one identifier token.
    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.first, startsIdentifier(first) else { return false }
        return text.allSatisfy(continuesIdentifier)
    }

    static func startsIdentifier(_ character: Character) -> Bool { character.isLetter || character == "_" }
    static func continuesIdentifier(_ character: Character) -> Bool { startsIdentifier(character) || character.isNumber }

    /// The text from `offset` to the end of its line, without a comment.
    func restOfLine(from offset: Int) -> String {
        var end = offset
        while end < characters.count, !characters[end].isNewline, characters[end] != "#" { end += 1 }
        return String(characters[offset..<end]).trimmingCharacters(in: .whitespaces)
    }

    private func matches(_ symbol: String, at index: Int) -> Bool {
        let symbolCharacters = Array(symbol)
        guard index + symbolCharacters.count <= characters.count else { return false }
        return Array(characters[index..<(index + symbolCharacters.count)]) == symbolCharacters
    }

    /// A decimal number with an optional fraction and exponent (`20`, `0.5`, `1e-3`).
    private func number(from index: inout Int, location: ModelFileSyntax.Location) throws -> Double {
        let start = index
        func digits() { while index < characters.count, characters[index].isASCII, characters[index].isNumber { index += 1 } }
        digits()
        if index < characters.count, characters[index] == "." { index += 1; digits() }
        if index < characters.count, characters[index] == "e" || characters[index] == "E" {
            let mark = index
            index += 1
            if index < characters.count, characters[index] == "+" || characters[index] == "-" { index += 1 }
            let exponentStart = index
            digits()
            if index == exponentStart { index = mark }
        }
        let text = String(characters[start..<index])
        guard let value = Double(text), value.isFinite else {
            throw ModelFileProblem(location: location, message: "'\(text)' is not a finite number")
        }
        return value
    }
}
