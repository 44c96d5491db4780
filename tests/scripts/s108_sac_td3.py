# Off-policy continuous-control updates as in the SAC (pranz24/pytorch-soft-actor-critic) and TD3 (sfujim/TD3) reference code: xavier_uniform_ weights_init_, a tanh-squashed Gaussian policy with the log-prob correction, twin Q networks, an automatic entropy temperature (log_alpha), soft_update/hard_update through parameters().data, TD3's clipped target-policy noise, delayed actor updates and a replay buffer of numpy arrays.
import copy
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Normal
from torch.optim import Adam

LOG_SIG_MAX = 2
LOG_SIG_MIN = -20
epsilon = 1e-6
rng = np.random.RandomState(0)


def weights_init_(m):
    if isinstance(m, nn.Linear):
        torch.nn.init.xavier_uniform_(m.weight, gain=1)
        torch.nn.init.constant_(m.bias, 0)


def overwrite(module, std=0.3):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, std, p.shape).astype(np.float32)))


class QNetwork(nn.Module):
    def __init__(self, num_inputs, num_actions, hidden_dim):
        super(QNetwork, self).__init__()
        self.linear1 = nn.Linear(num_inputs + num_actions, hidden_dim)
        self.linear2 = nn.Linear(hidden_dim, hidden_dim)
        self.linear3 = nn.Linear(hidden_dim, 1)
        self.linear4 = nn.Linear(num_inputs + num_actions, hidden_dim)
        self.linear5 = nn.Linear(hidden_dim, hidden_dim)
        self.linear6 = nn.Linear(hidden_dim, 1)
        self.apply(weights_init_)

    def forward(self, state, action):
        xu = torch.cat([state, action], 1)
        x1 = F.relu(self.linear1(xu))
        x1 = F.relu(self.linear2(x1))
        x1 = self.linear3(x1)
        x2 = F.relu(self.linear4(xu))
        x2 = F.relu(self.linear5(x2))
        x2 = self.linear6(x2)
        return x1, x2


class GaussianPolicy(nn.Module):
    def __init__(self, num_inputs, num_actions, hidden_dim, action_space_high, action_space_low):
        super(GaussianPolicy, self).__init__()
        self.linear1 = nn.Linear(num_inputs, hidden_dim)
        self.linear2 = nn.Linear(hidden_dim, hidden_dim)
        self.mean_linear = nn.Linear(hidden_dim, num_actions)
        self.log_std_linear = nn.Linear(hidden_dim, num_actions)
        self.apply(weights_init_)
        self.action_scale = torch.FloatTensor((action_space_high - action_space_low) / 2.)
        self.action_bias = torch.FloatTensor((action_space_high + action_space_low) / 2.)

    def forward(self, state):
        x = F.relu(self.linear1(state))
        x = F.relu(self.linear2(x))
        mean = self.mean_linear(x)
        log_std = self.log_std_linear(x)
        log_std = torch.clamp(log_std, min=LOG_SIG_MIN, max=LOG_SIG_MAX)
        return mean, log_std

    def sample(self, state, eps=None):
        mean, log_std = self.forward(state)
        std = log_std.exp()
        normal = Normal(mean, std)
        x_t = normal.rsample() if eps is None else mean + std * eps
        y_t = torch.tanh(x_t)
        action = y_t * self.action_scale + self.action_bias
        log_prob = normal.log_prob(x_t)
        log_prob -= torch.log(self.action_scale * (1 - y_t.pow(2)) + epsilon)
        log_prob = log_prob.sum(1, keepdim=True)
        mean = torch.tanh(mean) * self.action_scale + self.action_bias
        return action, log_prob, mean

    def to(self, device):
        self.action_scale = self.action_scale.to(device)
        self.action_bias = self.action_bias.to(device)
        return super(GaussianPolicy, self).to(device)


def soft_update(target, source, tau):
    for target_param, param in zip(target.parameters(), source.parameters()):
        target_param.data.copy_(target_param.data * (1.0 - tau) + param.data * tau)


def hard_update(target, source):
    for target_param, param in zip(target.parameters(), source.parameters()):
        target_param.data.copy_(param.data)


obs_dim, act_dim, hidden = 3, 2, 16
high, low = np.array([2.0, 1.0], dtype=np.float32), np.array([-2.0, -1.0], dtype=np.float32)
critic = QNetwork(obs_dim, act_dim, hidden)
critic_target = QNetwork(obs_dim, act_dim, hidden)
policy = GaussianPolicy(obs_dim, act_dim, hidden, high, low).to(torch.device("cpu"))
print(critic.linear1.bias.abs().sum().item(), bool(critic.linear1.weight.abs().max() <= (6 / (5 + 16)) ** 0.5))
overwrite(critic)
overwrite(policy)
hard_update(critic_target, critic)
print(all(torch.equal(a, b) for a, b in zip(critic.parameters(), critic_target.parameters())))
critic_optim = Adam(critic.parameters(), lr=3e-4)
policy_optim = Adam(policy.parameters(), lr=3e-4)
target_entropy = -torch.prod(torch.Tensor((act_dim,)).to("cpu")).item()
log_alpha = torch.zeros(1, requires_grad=True, device="cpu")
alpha_optim = Adam([log_alpha], lr=3e-4)
alpha = log_alpha.exp()
gamma, tau = 0.99, 0.005
print(target_entropy, alpha)

state = torch.FloatTensor(rng.normal(size=(1, obs_dim)))
action, _, _ = policy.sample(state)
print(action.detach().cpu().numpy()[0].shape, bool((action.abs() <= torch.tensor(high)).all()))

batch = 5
for updates in range(3):
    state_batch = torch.FloatTensor(rng.normal(size=(batch, obs_dim)))
    next_state_batch = torch.FloatTensor(rng.normal(size=(batch, obs_dim)))
    action_batch = torch.FloatTensor(rng.uniform(-1, 1, (batch, act_dim)))
    reward_batch = torch.FloatTensor(rng.normal(size=batch)).unsqueeze(1)
    mask_batch = torch.FloatTensor((rng.uniform(size=batch) > 0.2).astype(np.float32)).unsqueeze(1)
    with torch.no_grad():
        eps = torch.FloatTensor(rng.normal(size=(batch, act_dim)))
        next_state_action, next_state_log_pi, _ = policy.sample(next_state_batch, eps)
        qf1_next_target, qf2_next_target = critic_target(next_state_batch, next_state_action)
        min_qf_next_target = torch.min(qf1_next_target, qf2_next_target) - alpha * next_state_log_pi
        next_q_value = reward_batch + mask_batch * gamma * (min_qf_next_target)
    qf1, qf2 = critic(state_batch, action_batch)
    qf1_loss = F.mse_loss(qf1, next_q_value)
    qf2_loss = F.mse_loss(qf2, next_q_value)
    qf_loss = qf1_loss + qf2_loss
    critic_optim.zero_grad()
    qf_loss.backward()
    critic_optim.step()
    eps = torch.FloatTensor(rng.normal(size=(batch, act_dim)))
    pi, log_pi, _ = policy.sample(state_batch, eps)
    qf1_pi, qf2_pi = critic(state_batch, pi)
    min_qf_pi = torch.min(qf1_pi, qf2_pi)
    policy_loss = ((alpha * log_pi) - min_qf_pi).mean()
    policy_optim.zero_grad()
    policy_loss.backward()
    policy_optim.step()
    alpha_loss = -(log_alpha * (log_pi + target_entropy).detach()).mean()
    alpha_optim.zero_grad()
    alpha_loss.backward()
    alpha_optim.step()
    alpha = log_alpha.exp()
    alpha_tlogs = alpha.clone()
    soft_update(critic_target, critic, tau)
    print(f"update {updates}: qf1 {qf1_loss.item():.5f} qf2 {qf2_loss.item():.5f} "
          f"policy {policy_loss.item():.5f} alpha_loss {alpha_loss.item():.5f} alpha {alpha_tlogs.item():.6f}")


class Actor(nn.Module):
    def __init__(self, state_dim, action_dim, max_action):
        super(Actor, self).__init__()
        self.l1 = nn.Linear(state_dim, 16)
        self.l2 = nn.Linear(16, 16)
        self.l3 = nn.Linear(16, action_dim)
        self.max_action = max_action

    def forward(self, state):
        a = F.relu(self.l1(state))
        a = F.relu(self.l2(a))
        return self.max_action * torch.tanh(self.l3(a))


class Critic(nn.Module):
    def __init__(self, state_dim, action_dim):
        super(Critic, self).__init__()
        self.l1 = nn.Linear(state_dim + action_dim, 16)
        self.l2 = nn.Linear(16, 1)
        self.l4 = nn.Linear(state_dim + action_dim, 16)
        self.l5 = nn.Linear(16, 1)

    def forward(self, state, action):
        sa = torch.cat([state, action], 1)
        q1 = self.l2(F.relu(self.l1(sa)))
        q2 = self.l5(F.relu(self.l4(sa)))
        return q1, q2

    def Q1(self, state, action):
        sa = torch.cat([state, action], 1)
        return self.l2(F.relu(self.l1(sa)))


class ReplayBuffer(object):
    def __init__(self, state_dim, action_dim, max_size=int(1e6)):
        self.max_size = max_size
        self.ptr = 0
        self.size = 0
        self.state = np.zeros((max_size, state_dim))
        self.action = np.zeros((max_size, action_dim))
        self.next_state = np.zeros((max_size, state_dim))
        self.reward = np.zeros((max_size, 1))
        self.not_done = np.zeros((max_size, 1))

    def add(self, state, action, next_state, reward, done):
        self.state[self.ptr] = state
        self.action[self.ptr] = action
        self.next_state[self.ptr] = next_state
        self.reward[self.ptr] = reward
        self.not_done[self.ptr] = 1. - done
        self.ptr = (self.ptr + 1) % self.max_size
        self.size = min(self.size + 1, self.max_size)

    def sample(self, ind):
        return (torch.FloatTensor(self.state[ind]), torch.FloatTensor(self.action[ind]),
                torch.FloatTensor(self.next_state[ind]), torch.FloatTensor(self.reward[ind]),
                torch.FloatTensor(self.not_done[ind]))


max_action = 2.0
actor = Actor(obs_dim, act_dim, max_action)
overwrite(actor)
actor_target = copy.deepcopy(actor)
actor_optimizer = torch.optim.Adam(actor.parameters(), lr=3e-4)
td3_critic = Critic(obs_dim, act_dim)
overwrite(td3_critic)
critic_target = copy.deepcopy(td3_critic)
critic_optimizer = torch.optim.Adam(td3_critic.parameters(), lr=3e-4)
replay_buffer = ReplayBuffer(obs_dim, act_dim, max_size=50)
for i in range(12):
    replay_buffer.add(rng.normal(size=obs_dim), rng.uniform(-2, 2, act_dim), rng.normal(size=obs_dim),
                      rng.normal(), float(rng.uniform() < 0.1))
print(replay_buffer.size, replay_buffer.ptr, actor(torch.FloatTensor(rng.normal(size=(1, obs_dim)))).cpu().data.numpy().flatten().shape)
policy_noise, noise_clip, policy_freq, discount = 0.2 * max_action, 0.5 * max_action, 2, 0.99
for total_it in range(1, 5):
    state, action, next_state, reward, not_done = replay_buffer.sample(rng.randint(0, replay_buffer.size, size=4))
    with torch.no_grad():
        noise = (torch.FloatTensor(rng.normal(size=action.shape)) * policy_noise).clamp(-noise_clip, noise_clip)
        next_action = (actor_target(next_state) + noise).clamp(-max_action, max_action)
        target_Q1, target_Q2 = critic_target(next_state, next_action)
        target_Q = torch.min(target_Q1, target_Q2)
        target_Q = reward + not_done * discount * target_Q
    current_Q1, current_Q2 = td3_critic(state, action)
    critic_loss = F.mse_loss(current_Q1, target_Q) + F.mse_loss(current_Q2, target_Q)
    critic_optimizer.zero_grad()
    critic_loss.backward()
    critic_optimizer.step()
    line = f"it {total_it}: critic {critic_loss.item():.5f}"
    if total_it % policy_freq == 0:
        actor_loss = -td3_critic.Q1(state, actor(state)).mean()
        actor_optimizer.zero_grad()
        actor_loss.backward()
        actor_optimizer.step()
        for param, target_param in zip(td3_critic.parameters(), critic_target.parameters()):
            target_param.data.copy_(tau * param.data + (1 - tau) * target_param.data)
        for param, target_param in zip(actor.parameters(), actor_target.parameters()):
            target_param.data.copy_(tau * param.data + (1 - tau) * target_param.data)
        line += f" actor {actor_loss.item():.5f}"
    print(line)
with tempfile.TemporaryDirectory() as directory:
    filename = os.path.join(directory, "TD3_test")
    torch.save(td3_critic.state_dict(), filename + "_critic")
    torch.save(critic_optimizer.state_dict(), filename + "_critic_optimizer")
    td3_critic.load_state_dict(torch.load(filename + "_critic"))
    critic_optimizer.load_state_dict(torch.load(filename + "_critic_optimizer"))
critic_target = copy.deepcopy(td3_critic)
print(critic_optimizer.state_dict()["state"][0]["step"], torch.equal(critic_target.l1.weight, td3_critic.l1.weight))
