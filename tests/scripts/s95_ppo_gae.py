# PPO as in CleanRL's ppo.py reduced to CPU size: layer_init with orthogonal_ and constant_, a discrete Categorical agent and a continuous Normal agent (actor_logstd Parameter, expand_as), GAE over reversed steps, clipped surrogate with clamp and max, value clipping, approx_kl, advantage normalisation, minibatch updates with clip_grad_norm_.
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.distributions.categorical import Categorical
from torch.distributions.normal import Normal


def layer_init(layer, std=np.sqrt(2), bias_const=0.0):
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    def __init__(self, obs_dim, n_actions):
        super().__init__()
        self.critic = nn.Sequential(
            layer_init(nn.Linear(obs_dim, 16)),
            nn.Tanh(),
            layer_init(nn.Linear(16, 16)),
            nn.Tanh(),
            layer_init(nn.Linear(16, 1), std=1.0),
        )
        self.actor = nn.Sequential(
            layer_init(nn.Linear(obs_dim, 16)),
            nn.Tanh(),
            layer_init(nn.Linear(16, 16)),
            nn.Tanh(),
            layer_init(nn.Linear(16, n_actions), std=0.01),
        )

    def get_value(self, x):
        return self.critic(x)

    def get_action_and_value(self, x, action=None):
        logits = self.actor(x)
        probs = Categorical(logits=logits)
        if action is None:
            action = probs.sample()
        return action, probs.log_prob(action), probs.entropy(), self.critic(x)


class ContinuousAgent(nn.Module):
    def __init__(self, obs_dim, act_dim):
        super().__init__()
        self.critic = nn.Sequential(layer_init(nn.Linear(obs_dim, 16)), nn.Tanh(), layer_init(nn.Linear(16, 1), std=1.0))
        self.actor_mean = nn.Sequential(layer_init(nn.Linear(obs_dim, 16)), nn.Tanh(),
                                        layer_init(nn.Linear(16, act_dim), std=0.01))
        self.actor_logstd = nn.Parameter(torch.zeros(1, act_dim))

    def get_value(self, x):
        return self.critic(x)

    def get_action_and_value(self, x, action=None):
        action_mean = self.actor_mean(x)
        action_logstd = self.actor_logstd.expand_as(action_mean)
        action_std = torch.exp(action_logstd)
        probs = Normal(action_mean, action_std)
        if action is None:
            action = probs.sample()
        return action, probs.log_prob(action).sum(1), probs.entropy().sum(1), self.critic(x)


def overwrite(module, rng):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, 0.4, p.shape).astype(np.float32)))


num_steps, num_envs, obs_dim = 6, 2, 4
gamma, gae_lambda, clip_coef, ent_coef, vf_coef = 0.99, 0.95, 0.2, 0.01, 0.5
rng = np.random.RandomState(1)
torch.manual_seed(1)

for continuous in (False, True):
    agent = ContinuousAgent(obs_dim, 2) if continuous else Agent(obs_dim, 3)
    w = agent.actor[4].weight if not continuous else agent.actor_mean[2].weight
    print(type(agent).__name__, w.shape, round(float(w.norm()), 4), agent.critic[0].bias.abs().sum().item())
    overwrite(agent, rng)
    optimizer = optim.Adam(agent.parameters(), lr=2.5e-4, eps=1e-5)
    obs = torch.zeros((num_steps, num_envs, obs_dim))
    actions = torch.zeros((num_steps, num_envs) + ((2,) if continuous else ()))
    logprobs = torch.zeros((num_steps, num_envs))
    rewards = torch.zeros((num_steps, num_envs))
    dones = torch.zeros((num_steps, num_envs))
    values = torch.zeros((num_steps, num_envs))
    next_obs = torch.Tensor(rng.normal(size=(num_envs, obs_dim)))
    next_done = torch.zeros(num_envs)
    for step in range(0, num_steps):
        obs[step] = next_obs
        dones[step] = next_done
        with torch.no_grad():
            if continuous:
                fixed = torch.Tensor(rng.normal(size=(num_envs, 2)))
            else:
                fixed = torch.tensor(rng.randint(0, 3, num_envs))
            action, logprob, _, value = agent.get_action_and_value(next_obs, fixed)
            values[step] = value.flatten()
        actions[step] = action
        logprobs[step] = logprob
        reward = rng.normal(size=num_envs)
        next_done_np = rng.rand(num_envs) < 0.2
        rewards[step] = torch.tensor(reward).to("cpu").view(-1)
        next_obs, next_done = torch.Tensor(rng.normal(size=(num_envs, obs_dim))), torch.Tensor(next_done_np)
    with torch.no_grad():
        sampled, _, _, _ = agent.get_action_and_value(next_obs)
        print(sampled.shape, sampled.dtype)
        next_value = agent.get_value(next_obs).reshape(1, -1)
        advantages = torch.zeros_like(rewards)
        lastgaelam = 0
        for t in reversed(range(num_steps)):
            if t == num_steps - 1:
                nextnonterminal = 1.0 - next_done
                nextvalues = next_value
            else:
                nextnonterminal = 1.0 - dones[t + 1]
                nextvalues = values[t + 1]
            delta = rewards[t] + gamma * nextvalues * nextnonterminal - values[t]
            advantages[t] = lastgaelam = delta + gamma * gae_lambda * nextnonterminal * lastgaelam
        returns = advantages + values
    print(advantages.shape, returns[0], lastgaelam.shape)

    b_obs = obs.reshape((-1, obs_dim))
    b_logprobs = logprobs.reshape(-1)
    b_actions = actions.reshape((-1, 2)) if continuous else actions.reshape(-1)
    b_advantages = advantages.reshape(-1)
    b_returns = returns.reshape(-1)
    b_values = values.reshape(-1)
    batch_size, minibatch_size = num_steps * num_envs, 4
    b_inds = np.arange(batch_size)
    clipfracs = []
    for epoch in range(2):
        rng.shuffle(b_inds)
        for start in range(0, batch_size, minibatch_size):
            end = start + minibatch_size
            mb_inds = b_inds[start:end]
            act = b_actions[mb_inds] if continuous else b_actions.long()[mb_inds]
            _, newlogprob, entropy, newvalue = agent.get_action_and_value(b_obs[mb_inds], act)
            logratio = newlogprob - b_logprobs[mb_inds]
            ratio = logratio.exp()
            with torch.no_grad():
                old_approx_kl = (-logratio).mean()
                approx_kl = ((ratio - 1) - logratio).mean()
                clipfracs += [((ratio - 1.0).abs() > clip_coef).float().mean().item()]
            mb_advantages = b_advantages[mb_inds]
            mb_advantages = (mb_advantages - mb_advantages.mean()) / (mb_advantages.std() + 1e-8)
            pg_loss1 = -mb_advantages * ratio
            pg_loss2 = -mb_advantages * torch.clamp(ratio, 1 - clip_coef, 1 + clip_coef)
            pg_loss = torch.max(pg_loss1, pg_loss2).mean()
            newvalue = newvalue.view(-1)
            v_loss_unclipped = (newvalue - b_returns[mb_inds]) ** 2
            v_clipped = b_values[mb_inds] + torch.clamp(newvalue - b_values[mb_inds], -clip_coef, clip_coef)
            v_loss_clipped = (v_clipped - b_returns[mb_inds]) ** 2
            v_loss_max = torch.max(v_loss_unclipped, v_loss_clipped)
            v_loss = 0.5 * v_loss_max.mean()
            entropy_loss = entropy.mean()
            loss = pg_loss - ent_coef * entropy_loss + v_loss * vf_coef
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(agent.parameters(), 0.5)
            optimizer.step()
        print(f"epoch {epoch}: loss {loss.item():.5f} pg {pg_loss.item():.5f} v {v_loss.item():.5f} "
              f"ent {entropy_loss.item():.5f} kl {approx_kl.item():.6f} {old_approx_kl.item():.6f}")
    y_pred, y_true = b_values.cpu().numpy(), b_returns.cpu().numpy()
    var_y = np.var(y_true)
    explained_var = np.nan if var_y == 0 else 1 - np.var(y_true - y_pred) / var_y
    print(round(float(explained_var), 5), round(float(np.mean(clipfracs)), 5))
