import Foundation

extension ParameterSet {
    /// The tensors of a parameter set, for code that treats them alike.
    public static var tensors: [WritableKeyPath<ParameterSet, [T]>] {
        [\.inputWeights, \.recurrentWeights, \.bias, \.outputWeights, \.outputBias]
    }

    /// ‖g‖₂ over every tensor.
    public var norm: Double {
        Self.tensors.reduce(0.0) { total, path in self[keyPath: path].reduce(total) { $0 + Double($1) * Double($1) } }.squareRoot()
    }

    /// Multiplies every value by `factor`.
    public mutating func scale(by factor: T) {
        for path in Self.tensors { self[keyPath: path] = self[keyPath: path].map { $0 * factor } }
    }

    /// Adds `other` element by element.
    public mutating func add(_ other: ParameterSet) {
        for path in Self.tensors { self[keyPath: path] = zip(self[keyPath: path], other[keyPath: path]).map { $0 + $1 } }
    }

    /// Scales the set so that its norm is at most `maximum` (gradient-norm clipping).
    public mutating func clip(norm maximum: Double) {
        let current = norm
        if current > maximum, current > 0 { scale(by: T(maximum / current)) }
    }

    /// Bytes the values occupy.
    public var bytes: Int { Self.tensors.reduce(0) { $0 + self[keyPath: $1].count } * MemoryLayout<T>.stride }

    /// Whether every value is finite; otherwise the name of the first tensor that is not.
    public var firstNonFiniteTensor: String? {
        named.first { $0.values.contains { !$0.isFinite } }?.name
    }
}

/// Updates weights from gradients.
public protocol Optimizer<T> {
    associatedtype T: KernelScalar
    /// Applies one update with learning rate `rate` (schedules decide it per step).
    mutating func update(_ parameters: inout ParameterSet<T>, gradients: ParameterSet<T>, rate: Double)
}

/// Stochastic gradient descent with optional momentum and (coupled, L2) weight decay.
public struct SGD<T: KernelScalar>: Optimizer, Codable {
    public var momentum: Double
    public var weightDecay: Double
    private var velocity: ParameterSet<T>?

    public init(momentum: Double = 0, weightDecay: Double = 0) {
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    public mutating func update(_ parameters: inout ParameterSet<T>, gradients: ParameterSet<T>, rate: Double) {
        var velocity = self.velocity ?? ParameterSet(zerosFor: parameters)
        for path in ParameterSet<T>.tensors {
            for index in parameters[keyPath: path].indices {
                let g = Double(gradients[keyPath: path][index]) + weightDecay * Double(parameters[keyPath: path][index])
                let v = momentum * Double(velocity[keyPath: path][index]) + g
                velocity[keyPath: path][index] = T(v)
                parameters[keyPath: path][index] -= T(rate * v)
            }
        }
        self.velocity = velocity
    }
}

/// Adam (Kingma & Ba 2015); with `decoupledWeightDecay` it is AdamW (Loshchilov & Hutter 2019).
public struct Adam<T: KernelScalar>: Optimizer, Codable {
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    public var decoupledWeightDecay: Double
    private var firstMoment: ParameterSet<T>?
    private var secondMoment: ParameterSet<T>?
    private var steps = 0

    public init(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, decoupledWeightDecay: Double = 0) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    public mutating func update(_ parameters: inout ParameterSet<T>, gradients: ParameterSet<T>, rate: Double) {
        var m = firstMoment ?? ParameterSet(zerosFor: parameters)
        var v = secondMoment ?? ParameterSet(zerosFor: parameters)
        steps += 1
        let correction1 = 1 - Foundation.pow(beta1, Double(steps)), correction2 = 1 - Foundation.pow(beta2, Double(steps))
        for path in ParameterSet<T>.tensors {
            for index in parameters[keyPath: path].indices {
                let g = Double(gradients[keyPath: path][index])
                let mean = beta1 * Double(m[keyPath: path][index]) + (1 - beta1) * g
                let variance = beta2 * Double(v[keyPath: path][index]) + (1 - beta2) * g * g
                m[keyPath: path][index] = T(mean)
                v[keyPath: path][index] = T(variance)
                let weight = Double(parameters[keyPath: path][index])
                let step = rate * (mean / correction1) / ((variance / correction2).squareRoot() + epsilon) + rate * decoupledWeightDecay * weight
                parameters[keyPath: path][index] = T(weight - step)
            }
        }
        firstMoment = m
        secondMoment = v
    }
}

extension ParameterSet {
    /// Zeros shaped like `other`.
    init(zerosFor other: ParameterSet) {
        inputWeights = [T](repeating: 0, count: other.inputWeights.count)
        recurrentWeights = [T](repeating: 0, count: other.recurrentWeights.count)
        bias = [T](repeating: 0, count: other.bias.count)
        outputWeights = [T](repeating: 0, count: other.outputWeights.count)
        outputBias = [T](repeating: 0, count: other.outputBias.count)
    }
}
