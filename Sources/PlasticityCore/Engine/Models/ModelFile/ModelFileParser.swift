import PlasticityBase

/// Reads a model file's statements into `ModelFileSyntax`, one statement per line (see
/// Documentation/ModelFiles.md). It checks the form of each line; what the names mean is
/// checked afterwards by `ModelFileChecker`.
struct ModelFileParser {
    /// Expressions deeper than this are refused rather than risk the parser's stack.
    static let maximumNesting = 100

    private let lexer: ModelFileLexer
    private let tokens: [ModelFileLexer.Token]
    private var position = 0
    private var nesting = 0

    init(_ text: String) throws {
        lexer = ModelFileLexer(text)
        tokens = try lexer.tokens()
    }

    static func parse(_ text: String) throws -> ModelFileSyntax {
        var parser = try ModelFileParser(text)
        return try parser.file()
    }

    private var current: ModelFileLexer.Token { tokens[position] }
    private var next: ModelFileLexer.Token { tokens[Swift.min(position + 1, tokens.count - 1)] }

    private mutating func advance() -> ModelFileLexer.Token {
        defer { position = Swift.min(position + 1, tokens.count - 1) }
        return current
    }

    private func problem(_ message: String, at token: ModelFileLexer.Token? = nil) -> ModelFileProblem {
        ModelFileProblem(location: (token ?? current).location, message: message)
    }

    private mutating func expect(_ symbol: String, _ purpose: String) throws {
        guard current.kind == .symbol(symbol) else { throw problem("expected '\(symbol)' \(purpose), found \(current.text)") }
        _ = advance()
    }

    private mutating func identifier(_ purpose: String) throws -> (String, ModelFileSyntax.Location) {
        guard case .identifier(let name) = current.kind else { throw problem("expected \(purpose), found \(current.text)") }
        return (name, advance().location)
    }

    private mutating func endOfStatement() throws {
        guard current.kind == .lineBreak || current.kind == .end else {
            throw problem("unexpected \(current.text) after the end of the statement")
        }
        if current.kind == .lineBreak { _ = advance() }
    }

    // MARK: Statements

    private mutating func file() throws -> ModelFileSyntax {
        var syntax = ModelFileSyntax()
        while current.kind != .end {
            if current.kind == .lineBreak { _ = advance(); continue }
            try statement(into: &syntax)
            try endOfStatement()
        }
        return syntax
    }

    private mutating func statement(into syntax: inout ModelFileSyntax) throws {
        let first = current
        guard case .identifier(let word) = first.kind else {
            throw problem("expected a statement (model, summary, state, parameter, let, an update such as v' = …, reset, spike or surrogate), found \(first.text)")
        }
        // An update names a state, whatever the name: `v' = …` or `dv/dt = … using euler`.
        if next.kind == .symbol("'") {
            _ = advance(); _ = advance()
            try expect("=", "after \(word)'")
            syntax.updates.append(.init(state: word, kind: .discrete, expression: try expression(), location: first.location))
            return
        }
        if next.kind == .symbol("/"), word.count > 1, word.hasPrefix("d"), tokens[Swift.min(position + 2, tokens.count - 1)].kind == .identifier("dt") {
            _ = advance(); _ = advance(); _ = advance()
            try expect("=", "after \(word)/dt")
            let rhs = try expression()
            guard current.kind == .identifier("using") else {
                throw problem("say how to integrate \(word)/dt: end the line with 'using euler' or 'using exponential'")
            }
            _ = advance()
            let (name, location) = try identifier("an integrator after 'using'")
            guard let integrator = ModelFileSyntax.Integrator(rawValue: name) else {
                throw ModelFileProblem(location: location, message: "unknown integrator '\(name)'; choose euler or exponential")
            }
            syntax.updates.append(.init(state: String(word.dropFirst()), kind: .differential(integrator), expression: rhs, location: first.location))
            return
        }
        _ = advance()
        switch word {
        case "model":
            let (name, location) = try identifier("the model's name after 'model'")
            if let earlier = syntax.name { throw ModelFileProblem(location: location, message: "the model is already named \(earlier.value) at line \(earlier.location.line)") }
            syntax.name = (name, location)
        case "summary":
            syntax.summary = try text("the summary in quotes")
        case "state":
            let (name, location) = try identifier("a state variable's name")
            try expect("=", "and an initial value after the state's name")
            let initial = try signedNumber("the state's initial value")
            let summary = try optionalText()
            syntax.states.append(.init(name: name, initialValue: initial, summary: summary, location: location))
        case "parameter":
            let (name, location) = try identifier("a parameter's name")
            try expect("=", "and a default value after the parameter's name")
            let value = try signedNumber("the parameter's default value")
            var range = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude
            if current.kind == .identifier("in") {
                _ = advance()
                let open = current
                try expect("[", "to open the valid range, as in [1e-3, 1e9]")
                let low = try signedNumber("the range's lower bound")
                try expect(",", "between the range's bounds")
                let high = try signedNumber("the range's upper bound")
                try expect("]", "to close the valid range")
                guard low <= high else { throw problem("the range [\(formatConstant(low)), \(formatConstant(high))] is empty", at: open) }
                range = low...high
            }
            guard range.contains(value) else {
                throw ModelFileProblem(location: location, message: "parameter \(name)'s default \(formatConstant(value)) is outside its valid range [\(formatConstant(range.lowerBound)), \(formatConstant(range.upperBound))]")
            }
            syntax.parameters.append(.init(name: name, defaultValue: value, validRange: range, summary: try optionalText(), location: location))
        case "let":
            let (name, location) = try identifier("a name after 'let'")
            try expect("=", "after the name of a derived value")
            syntax.definitions.append(.init(name: name, expression: try expression(), location: location))
        case "reset":
            let (name, location) = try identifier("a state variable after 'reset'")
            try expect("=", "after the state in a reset, as in reset v = v - threshold")
            syntax.resets.append(.init(state: name, expression: try expression(), location: location))
        case "spike":
            if let earlier = syntax.spikeArgument { throw problem("the spike argument is already given at line \(earlier.location.line)", at: first) }
            syntax.spikeArgument = (try expression(), first.location)
        case "surrogate":
            let text = lexer.restOfLine(from: current.offset)
            guard !text.isEmpty else { throw problem("expected a surrogate after 'surrogate', e.g. triangle(dampening=0.3, width=1)") }
            syntax.surrogate = (text, current.location)
            while current.kind != .lineBreak, current.kind != .end { _ = advance() }
        default:
            throw problem("unknown statement '\(word)'; expected model, summary, state, parameter, let, an update such as \(word)' = …, reset, spike or surrogate", at: first)
        }
    }

    private mutating func text(_ purpose: String) throws -> String {
        guard case .string(let value) = current.kind else { throw problem("expected \(purpose), found \(current.text)") }
        _ = advance()
        return value
    }

    private mutating func optionalText() throws -> String {
        if case .string = current.kind { return try text("a description") }
        return ""
    }

    /// A number with an optional sign, or `inf`.
    private mutating func signedNumber(_ purpose: String) throws -> Double {
        var sign = 1.0
        if current.kind == .symbol("-") { sign = -1; _ = advance() }
        switch current.kind {
        case .number(let value): _ = advance(); return sign * value
        case .identifier("inf"): _ = advance(); return sign * Double.greatestFiniteMagnitude
        default: throw problem("expected \(purpose) (a number), found \(current.text)")
        }
    }

    // MARK: Expressions (lowest precedence first)

    /// Runs `body` one level deeper, refusing expressions nested beyond `maximumNesting`.
    private mutating func deeper(_ body: (inout Self) throws -> ModelFileSyntax.Expression) throws -> ModelFileSyntax.Expression {
        nesting += 1
        defer { nesting -= 1 }
        guard nesting <= Self.maximumNesting else { throw problem("the expression is nested more than \(Self.maximumNesting) levels deep") }
        return try body(&self)
    }

    private mutating func expression() throws -> ModelFileSyntax.Expression {
        try deeper { try $0.comparison() }
    }

    private mutating func comparison() throws -> ModelFileSyntax.Expression {
        let left = try additive()
        for op in [ModelFileSyntax.BinaryOperator.lessOrEqual, .greaterOrEqual, .less, .greater] where current.kind == .symbol(op.rawValue) {
            let location = advance().location
            return .binary(op, left, try additive(), location)
        }
        return left
    }

    private mutating func additive() throws -> ModelFileSyntax.Expression {
        try leftAssociative([.add, .subtract]) { try $0.multiplicative() }
    }

    private mutating func multiplicative() throws -> ModelFileSyntax.Expression {
        try leftAssociative([.multiply, .divide]) { try $0.unary() }
    }

    /// operand (op operand)* for operators of one precedence, grouped from the left.
    private mutating func leftAssociative(_ operators: [ModelFileSyntax.BinaryOperator],
                                          _ operand: (inout Self) throws -> ModelFileSyntax.Expression) throws -> ModelFileSyntax.Expression {
        var left = try operand(&self)
        while case .symbol(let symbol) = current.kind, let op = operators.first(where: { $0.rawValue == symbol }) {
            let location = advance().location
            left = .binary(op, left, try operand(&self), location)
        }
        return left
    }

    private mutating func unary() throws -> ModelFileSyntax.Expression {
        if current.kind == .symbol("-") {
            let location = advance().location
            return .negate(try deeper { try $0.unary() }, location)
        }
        if current.kind == .symbol("+") { _ = advance() }
        return try power()
    }

    private mutating func power() throws -> ModelFileSyntax.Expression {
        let base = try primary()
        guard current.kind == .symbol("^") else { return base }
        let location = advance().location
        return .binary(.power, base, try deeper { try $0.unary() }, location)
    }

    private mutating func primary() throws -> ModelFileSyntax.Expression {
        let token = advance()
        switch token.kind {
        case .number(let value):
            return .number(value, token.location)
        case .identifier(let name):
            guard current.kind == .symbol("(") else { return .name(name, token.location) }
            _ = advance()
            var arguments: [ModelFileSyntax.Expression] = []
            if current.kind != .symbol(")") {
                arguments.append(try expression())
                while current.kind == .symbol(",") {
                    _ = advance()
                    arguments.append(try expression())
                }
            }
            try expect(")", "to close the arguments of \(name)(")
            return .call(name, arguments, token.location)
        case .symbol("("):
            let inner = try expression()
            try expect(")", "to close the parenthesis")
            return inner
        default:
            throw problem("expected a number, a name or '(', found \(token.text)", at: token)
        }
    }
}
