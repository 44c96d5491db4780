"""cgrad.distributions: probability distributions with torch.distributions'
classes, shapes, validation errors and KL registry (Normal, Bernoulli,
Categorical, Uniform, MultivariateNormal, Beta, Gamma, Dirichlet,
OneHotCategorical), in Python over cgrad's differentiable ops; rsample is
reparameterised wherever torch's is (has_rsample)."""
from cgrad.distributions import constraints
from cgrad.distributions.bernoulli import Bernoulli
from cgrad.distributions.beta import Beta
from cgrad.distributions.categorical import Categorical
from cgrad.distributions.dirichlet import Dirichlet
from cgrad.distributions.distribution import Distribution
from cgrad.distributions.exp_family import ExponentialFamily
from cgrad.distributions.gamma import Gamma
from cgrad.distributions.kl import kl_divergence, register_kl
from cgrad.distributions.multivariate_normal import MultivariateNormal
from cgrad.distributions.normal import Normal
from cgrad.distributions.one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from cgrad.distributions.uniform import Uniform

__all__ = ["Bernoulli", "Beta", "Categorical", "Dirichlet", "Distribution", "ExponentialFamily", "Gamma",
           "MultivariateNormal", "Normal", "OneHotCategorical", "OneHotCategoricalStraightThrough", "Uniform",
           "constraints", "kl_divergence", "register_kl"]
