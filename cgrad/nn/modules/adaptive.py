"""nn.AdaptiveLogSoftmaxWithLoss (Grave et al., "Efficient softmax
approximation for GPUs"): the frequent classes (below cutoffs[0]) get a
head softmax that also holds one logit per tail cluster; each tail cluster
of rarer classes has its own small softmax behind a low-rank projection
(in_features -> in_features // div_value**(i+1) -> cluster size). A
target's log-probability is its head log-probability, or its cluster's
head log-probability plus its log-probability inside the cluster; only the
rows whose targets fall in a cluster run that cluster's projection."""
from collections import namedtuple

import cgrad
from cgrad.nn import functional as F
from cgrad.nn.modules.container import ModuleList, Sequential
from cgrad.nn.modules.linear import Linear
from cgrad.nn.modules.module import Module

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False, device=None, dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted in an increasing "
                             "order, where each value is between 1 and n_classes-1")
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, device=device, dtype=dtype)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (i + 1)))
            size = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hidden, bias=False, device=device, dtype=dtype),
                                        Linear(hidden, size, bias=False, device=device, dtype=dtype)))

    def reset_parameters(self):
        self.head.reset_parameters()
        for projection, output_layer in self.tail:
            projection.reset_parameters()
            output_layer.reset_parameters()

    def forward(self, input_, target_):
        target_dims = target_.dim()
        if target_dims == 1:
            if input_.size(0) != target_.size(0):
                raise RuntimeError("Input and target should have the same size in the batch dimension.")
            if input_.dim() != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with size "
                                   f"{input_.size()}")
        elif target_dims == 0:
            if input_.dim() != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with size "
                                   f"{input_.size()}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = target_dims > 0
        input = input_ if batched else input_.unsqueeze(0)
        target = target_ if batched else target_.unsqueeze(0)

        batch_size = target.size(0)
        output = input.new_zeros(batch_size)             # the in-cluster log-probabilities (0 in the head)
        head_index = target.new_empty(batch_size)        # each row's head column: its class, or its cluster's
        rows_seen = 0
        bounds = [0] + self.cutoffs
        for cluster in range(len(bounds) - 1):
            low, high = bounds[cluster], bounds[cluster + 1]
            in_range = (target >= low) & (target < high)
            rows = in_range.nonzero().squeeze()
            if rows.numel() == 0:
                continue
            if cluster == 0:
                head_index.index_copy_(0, rows, target[in_range])
            else:
                logits = self.tail[cluster - 1](input.index_select(0, rows))
                head_index.index_fill_(0, rows, self.shortlist_size + cluster - 1)
                within = F.log_softmax(logits, dim=1).gather(1, (target[in_range] - low).unsqueeze(1))
                output.index_copy_(0, rows, within.squeeze(1))
            rows_seen += rows.numel()
        if rows_seen != batch_size:
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                               f"[{target.min().item()}, {target.max().item()}] were found. ")
        head_logprob = F.log_softmax(self.head(input), dim=1)
        output += head_logprob.gather(1, head_index.unsqueeze(1)).squeeze()
        loss = (-output).mean()
        if not batched:
            output = output.squeeze(0)
        return _ASMoutput(output, loss)

    def _get_full_log_prob(self, input, head_output):
        """Log-probabilities of every class: the head's for the shortlist, a
        cluster's head log-probability plus its own for the rest."""
        out = input.new_empty((head_output.size(0), self.n_classes))
        head_logprob = F.log_softmax(head_output, dim=1)
        out[:, :self.shortlist_size] = head_logprob[:, :self.shortlist_size]
        for i in range(self.n_clusters):
            start, stop = self.cutoffs[i], self.cutoffs[i + 1]
            cluster_logprob = F.log_softmax(self.tail[i](input), dim=1)
            out[:, start:stop] = cluster_logprob + head_logprob[:, self.shortlist_size + i].unsqueeze(1)
        return out

    def log_prob(self, input):
        return self._get_full_log_prob(input, self.head(input))

    def predict(self, input):
        """log_prob(input).argmax(1), computing the tail clusters only for
        the rows whose head prediction is a cluster."""
        head_output = self.head(input)
        output = cgrad.argmax(head_output, dim=1)
        in_tail = output >= self.shortlist_size
        if not in_tail.any():
            return output
        if in_tail.all():
            return cgrad.argmax(self._get_full_log_prob(input, head_output), dim=1)
        output[in_tail] = cgrad.argmax(self._get_full_log_prob(input[in_tail], head_output[in_tail]), dim=1)
        return output
