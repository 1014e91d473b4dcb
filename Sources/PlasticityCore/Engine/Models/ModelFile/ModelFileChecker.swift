import PlasticityBase

/// Checks what a parsed model file means — every name declared once and known where it is
/// read, every state updated and used, no cycle among derived values, a spike argument that
/// reads only the new state and parameters — so that a file that passes compiles without
/// surprises. Each refusal points at the line and column at fault.
struct ModelFileChecker {
    /// The functions a model file may call, with their number of arguments.
    static let functions: [String: Int] = [
        "exp": 1, "log": 1, "tanh": 1, "sigmoid": 1, "atan": 1, "sqrt": 1, "abs": 1,
        "min": 2, "max": 2, "if": 3, "heaviside": 1, "stopGradient": 1,
    ]
    /// The previous spike z[t-1] and the input current I[t].
    static let stepInputs = ["z", "I"]
    /// Names that cannot be declared. Statement words (state, reset, spike, …) can: they
    /// are recognised only at the start of a line; `using` ends an expression.
    static let keywords = ["using"]
    /// `x ^ n` takes an integer n in this range (it is expanded into products).
    static let exponents = -64...64

    let syntax: ModelFileSyntax

    private var start: ModelFileSyntax.Location { .init(line: 1, column: 1) }

    /// What each declared name is.
    enum Declaration { case state, parameter, definition(ModelFileSyntax.Expression) }

    func check() throws -> [String: Declaration] {
        guard syntax.name != nil else { throw ModelFileProblem(location: start, message: "the file names no model; add a line 'model NAME'") }
        let declarations = try declare()
        guard !syntax.states.isEmpty else { throw ModelFileProblem(location: start, message: "the model declares no state variable; add one, e.g. 'state v = 0'") }
        guard let spike = syntax.spikeArgument else {
            throw ModelFileProblem(location: start, message: "the model gives no spike argument; add a line such as 'spike v - threshold'")
        }
        let known = Array(declarations.keys) + Self.stepInputs
        var expressions = syntax.definitions.map(\.expression) + syntax.updates.map(\.expression) + syntax.resets.map(\.expression)
        expressions.append(spike.expression)
        for expression in expressions { try checkNames(in: expression, known: known) }
        try checkDefinitionCycles(declarations)
        try checkUpdates()
        try checkSpikeArgument(spike.expression, declarations)
        try checkEveryStateMatters(spike.expression, declarations)
        if let ode = syntax.updates.first(where: { if case .differential = $0.kind { return true } else { return false } }),
           !syntax.parameters.contains(where: { $0.name == "dt" }) {
            throw ModelFileProblem(location: ode.location, message: "integrating d\(ode.state)/dt needs the time step: declare 'parameter dt = 1 in [1e-6, 1e6] \"time step (ms)\"'")
        }
        return declarations
    }

    private func declare() throws -> [String: Declaration] {
        var declarations: [String: (Declaration, ModelFileSyntax.Location)] = [:]
        let all: [(String, Declaration, ModelFileSyntax.Location)] =
            syntax.states.map { ($0.name, .state, $0.location) } + syntax.parameters.map { ($0.name, .parameter, $0.location) }
            + syntax.definitions.map { ($0.name, .definition($0.expression), $0.location) }
        for (name, declaration, location) in all {
            if Self.stepInputs.contains(name) {
                throw ModelFileProblem(location: location, message: "'\(name)' is reserved for \(name == "z" ? "the previous spike z[t-1]" : "the input current I[t]")")
            }
            if Self.functions[name] != nil || Self.keywords.contains(name) {
                throw ModelFileProblem(location: location, message: "'\(name)' is reserved (a function or keyword of model files); choose another name")
            }
            if let (_, earlier) = declarations[name] {
                throw ModelFileProblem(location: location, message: "'\(name)' is already declared at line \(earlier.line)")
            }
            declarations[name] = (declaration, location)
        }
        return declarations.mapValues(\.0)
    }

    private func checkNames(in expression: ModelFileSyntax.Expression, known: [String]) throws {
        switch expression {
        case .number:
            return
        case .name(let name, let location):
            guard known.contains(name) else {
                let hint = NearestName.of(name, among: known).map { "; did you mean '\($0)'?" } ?? ""
                let function = Self.functions[name] != nil ? "; \(name) is a function: call it as \(name)(…)" : ""
                throw ModelFileProblem(location: location, message: "unknown name '\(name)'\(function.isEmpty ? hint : function)")
            }
        case .negate(let inner, _):
            try checkNames(in: inner, known: known)
        case .binary(let op, let left, let right, let location):
            try checkNames(in: left, known: known)
            if op == .power {
                guard Self.integerExponent(right) != nil else {
                    throw ModelFileProblem(location: location, message: "'^' takes an integer exponent from \(Self.exponents.lowerBound) to \(Self.exponents.upperBound) written as a number; for other powers use exp(y*log(x))")
                }
            } else {
                try checkNames(in: right, known: known)
            }
        case .call(let name, let arguments, let location):
            guard let arity = Self.functions[name] else {
                let hint = NearestName.of(name, among: Array(Self.functions.keys)).map { "; did you mean '\($0)'?" } ?? ""
                throw ModelFileProblem(location: location, message: "unknown function '\(name)'\(hint) (functions: \(Self.functions.keys.sorted().joined(separator: ", ")))")
            }
            guard arguments.count == arity else {
                throw ModelFileProblem(location: location, message: "\(name) takes \(arity) argument\(arity == 1 ? "" : "s"), got \(arguments.count)")
            }
            for argument in arguments { try checkNames(in: argument, known: known) }
        }
    }

    /// The exponent of `x ^ n` if it is an integer literal (with an optional sign) in range.
    static func integerExponent(_ expression: ModelFileSyntax.Expression) -> Int? {
        switch expression {
        case .number(let value, _):
            guard value == value.rounded(), exponents.contains(Int(exactly: value) ?? Int.max) else { return nil }
            return Int(value)
        case .negate(.number(let value, _), _):
            guard value == value.rounded(), exponents.contains(-(Int(exactly: value) ?? Int.max)) else { return nil }
            return -Int(value)
        default:
            return nil
        }
    }

    private func checkDefinitionCycles(_ declarations: [String: Declaration]) throws {
        var finished = Set<String>()
        func visit(_ name: String, path: [String]) throws {
            if finished.contains(name) { return }
            if let index = path.firstIndex(of: name) {
                let cycle = path[index...] + [name]
                let location = syntax.definitions.first { $0.name == name }!.location
                throw ModelFileProblem(location: location, message: "derived values form a cycle: \(cycle.joined(separator: " → "))")
            }
            guard case .definition(let expression) = declarations[name] else { return }
            for read in expression.names { try visit(read.name, path: path + [name]) }
            finished.insert(name)
        }
        for definition in syntax.definitions { try visit(definition.name, path: []) }
    }

    private func checkUpdates() throws {
        let stateNames = syntax.states.map(\.name)
        for (statements, what) in [(syntax.updates.map { ($0.state, $0.location) }, "an update"), (syntax.resets.map { ($0.state, $0.location) }, "a reset")] {
            var seen: [String: ModelFileSyntax.Location] = [:]
            for (state, location) in statements {
                guard stateNames.contains(state) else {
                    let hint = NearestName.of(state, among: stateNames).map { "; did you mean '\($0)'?" } ?? "; declare it with 'state \(state) = 0'"
                    throw ModelFileProblem(location: location, message: "\(what) for '\(state)', which is not a state variable\(hint)")
                }
                if let earlier = seen[state] { throw ModelFileProblem(location: location, message: "'\(state)' already has \(what) at line \(earlier.line)") }
                seen[state] = location
            }
        }
        for state in syntax.states where !syntax.updates.contains(where: { $0.state == state.name }) {
            throw ModelFileProblem(location: state.location, message: "state '\(state.name)' has no update; add \(state.name)' = … or d\(state.name)/dt = … using euler")
        }
    }

    /// The step inputs and state variables an expression reads, following derived values, each
    /// with the chain of names that leads to it.
    private func reads(_ expression: ModelFileSyntax.Expression, _ declarations: [String: Declaration]) -> [(name: String, via: [String], location: ModelFileSyntax.Location)] {
        var found: [(String, [String], ModelFileSyntax.Location)] = []
        var visited = Set<String>()
        func walk(_ expression: ModelFileSyntax.Expression, via: [String]) {
            for read in expression.names {
                switch declarations[read.name] {
                case .definition(let inner):
                    if visited.insert(read.name).inserted { walk(inner, via: via + [read.name]) }
                case .state:
                    found.append((read.name, via, read.location))
                case .parameter:
                    break
                case nil:
                    found.append((read.name, via, read.location))
                }
            }
        }
        walk(expression, via: [])
        return found
    }

    private func checkSpikeArgument(_ expression: ModelFileSyntax.Expression, _ declarations: [String: Declaration]) throws {
        if let input = reads(expression, declarations).first(where: { Self.stepInputs.contains($0.name) }) {
            let through = input.via.isEmpty ? "" : " (through \(input.via.map { "'\($0)'" }.joined(separator: ", ")))"
            let what = input.name == "I" ? "the input current I" : "the previous spike z"
            throw ModelFileProblem(location: input.location, message: "the spike argument reads \(what)\(through); it may depend on the new state and parameters only")
        }
    }

    /// Refuses a state that can never change a spike: a typo, or a leftover.
    private func checkEveryStateMatters(_ spike: ModelFileSyntax.Expression, _ declarations: [String: Declaration]) throws {
        var reached = Set<String>()
        var pending = reads(spike, declarations).map(\.name)
        while let state = pending.popLast() {
            guard declarations[state].map({ if case .state = $0 { return true } else { return false } }) == true,
                  reached.insert(state).inserted else { continue }
            for update in syntax.updates where update.state == state { pending += reads(update.expression, declarations).map(\.name) }
            for reset in syntax.resets where reset.state == state { pending += reads(reset.expression, declarations).map(\.name) }
        }
        if let unused = syntax.states.first(where: { !reached.contains($0.name) }) {
            throw ModelFileProblem(location: unused.location, message: "state '\(unused.name)' never affects the spike: neither the spike argument nor any state that does reads it")
        }
    }
}
