import Foundation
import PlasticityBase

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
        var velocity = self.velocity ?? ParameterSet(zerosLike: parameters)
        velocity.update(with: [gradients, parameters]) { v, others in
            v = T(momentum * Double(v) + Double(others(0)) + weightDecay * Double(others(1)))
        }
        parameters.update(with: [velocity]) { weight, others in weight -= T(rate * Double(others(0))) }
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
        var m = firstMoment ?? ParameterSet(zerosLike: parameters)
        var v = secondMoment ?? ParameterSet(zerosLike: parameters)
        steps += 1
        let correction1 = 1 - Foundation.pow(beta1, Double(steps)), correction2 = 1 - Foundation.pow(beta2, Double(steps))
        m.update(with: [gradients]) { mean, g in mean = T(beta1 * Double(mean) + (1 - beta1) * Double(g(0))) }
        v.update(with: [gradients]) { variance, g in variance = T(beta2 * Double(variance) + (1 - beta2) * Double(g(0)) * Double(g(0))) }
        parameters.update(with: [m, v]) { weight, moments in
            let mean = Double(moments(0)), variance = Double(moments(1)), w = Double(weight)
            weight = T(w - rate * (mean / correction1) / ((variance / correction2).squareRoot() + epsilon) - rate * decoupledWeightDecay * w)
        }
        firstMoment = m
        secondMoment = v
    }
}
