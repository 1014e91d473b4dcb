import CKernels
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

    @_specialize(where T == Float)
    public mutating func update(_ parameters: inout ParameterSet<T>, gradients: ParameterSet<T>, rate: Double) {
        var velocity = self.velocity ?? ParameterSet(zerosLike: parameters)
        let (momentum, weightDecay) = (momentum, weightDecay)
        velocity.updateTensors(with: [gradients, parameters]) { v, others in
            let (g, w) = (others[0], others[1])
            for i in v.indices { v[i] = T(momentum * Double(v[i]) + Double(g[i]) + weightDecay * Double(w[i])) }
        }
        parameters.updateTensors(with: [velocity]) { weights, others in
            for i in weights.indices { weights[i] -= T(rate * Double(others[0][i])) }
        }
        self.velocity = velocity
    }

    /// Throws unless the saved state fits `network`'s tensors (a checkpoint may be damaged).
    public func checkState(against network: Network) throws {
        guard momentum.isFinite, weightDecay.isFinite else {
            throw PlasticityError.invalidConfiguration("SGD's state has momentum \(momentum) and weight decay \(weightDecay)")
        }
        try velocity?.check(against: network)
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

    @_specialize(where T == Float)
    public mutating func update(_ parameters: inout ParameterSet<T>, gradients: ParameterSet<T>, rate: Double) {
        var m = firstMoment ?? ParameterSet(zerosLike: parameters)
        var v = secondMoment ?? ParameterSet(zerosLike: parameters)
        steps += 1
        let (beta1, beta2, epsilon, decay) = (beta1, beta2, epsilon, decoupledWeightDecay)
        let correction1 = 1 - Foundation.pow(beta1, Double(steps)), correction2 = 1 - Foundation.pow(beta2, Double(steps))
        m.updateTensors(with: [gradients]) { mean, others in
            for i in mean.indices { mean[i] = T(beta1 * Double(mean[i]) + (1 - beta1) * Double(others[0][i])) }
        }
        v.updateTensors(with: [gradients]) { variance, others in
            for i in variance.indices {
                let g = Double(others[0][i])
                variance[i] = T(beta2 * Double(variance[i]) + (1 - beta2) * g * g)
            }
        }
        parameters.updateTensors(with: [m, v]) { weights, moments in
            let (means, variances) = (moments[0], moments[1])
            if T.self == Float.self, !weights.isEmpty {
                // The same operations in C, at the CPU's vector width: two divisions and a square
                // root per weight in scalar Double were ~1 ms an update at SHD's size, serial
                // between batches however many threads train.
                return plasticity_adam_weights_float(weights.baseAddress!.floats, means.baseAddress!.floats, variances.baseAddress!.floats, weights.count,
                                                     rate, correction1, correction2, epsilon, decay)
            }
            for i in weights.indices {
                let w = Double(weights[i])
                weights[i] = T(w - rate * (Double(means[i]) / correction1) / ((Double(variances[i]) / correction2).squareRoot() + epsilon) - rate * decay * w)
            }
        }
        firstMoment = m
        secondMoment = v
    }

    /// Throws unless the saved state fits `network`'s tensors (a checkpoint may be damaged).
    public func checkState(against network: Network) throws {
        guard steps >= 0, [beta1, beta2, epsilon, decoupledWeightDecay].allSatisfy(\.isFinite) else {
            throw PlasticityError.invalidConfiguration("Adam's state has \(steps) steps and β1 \(beta1), β2 \(beta2), ε \(epsilon), decay \(decoupledWeightDecay)")
        }
        try firstMoment?.check(against: network)
        try secondMoment?.check(against: network)
    }
}
