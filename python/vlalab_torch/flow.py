"""Flow matching [paper eq. 2] on the MoT, as src/model/flow.ts.

x_tau = (1 - tau) x0 + tau x1 with x0 ~ N(0, I) and x1 the normalized action chunk, both masked by the
embodiment's action mask; the model predicts the velocity, target x1 - x0; the loss is the masked mean
sum(m (v - u)^2) / (H sum(m)). Sampling integrates dx/dtau = v by Euler from tau = 0 to 1.

A batch is a dict of tensors named as vlalab's Batch: images [B, V, S, S, 3] f32 in [-1, 1], imageMask
[B, V], tokens [B, L] int, tokenMask [B, L], state / stateMask / actionMask [B, A], actions [B, H, A].
"""
import torch

# shape parameter a of pi0's Beta(a, 1) time distribution
BETA_A = 1.5


def sample_tau(batch, dist, generator=None, device=None):
    """tau [B]: U[0, 1), or 1 - u^(1 / 1.5) (pi0's noise-heavy Beta(1.5, 1)); flow.ts sampleTau."""
    u = torch.rand(batch, generator=generator, device=device)
    return u if dist == "uniform" else 1 - u.pow(1 / BETA_A)


def loss_terms(model, batch, x0, tau, freeze_semantic=False):
    """(sum(m (v - u)^2), H sum(m)): the loss is their ratio. Returned apart so that data-parallel ranks
    can normalize by the global mask count, which makes N ranks' mean gradient that of one big batch."""
    x1, mask = batch["actions"], batch["actionMask"]
    m = mask[:, None]  # [B, 1, A]
    t = tau[:, None, None]  # [B, 1, 1]
    a1, a0 = x1 * m, x0 * m
    xt = (1 - t) * a0 + t * a1  # [B, H, A]
    pre = (batch["images"], batch["imageMask"], batch["tokens"], batch["tokenMask"])
    if freeze_semantic:
        with torch.no_grad():
            cache = model.prefix_cache(*pre)
    else:
        cache = model.prefix_cache(*pre)
    v = model.velocity_cached(cache, batch["state"], batch["stateMask"], xt, tau)  # [B, H, A]
    err = ((v - (a1 - a0)).pow(2) * m).sum()
    return err, m.sum() * x1.shape[1]


def flow_loss(model, batch, x0, tau, freeze_semantic=False):
    """The flow-matching loss (a scalar) of one batch with given noise x0 [B, H, A] and times tau [B]."""
    err, count = loss_terms(model, batch, x0, tau, freeze_semantic)
    return err / count


@torch.no_grad()
def sample_actions(model, batch, steps, x0):
    """Euler integration with the prefix cache: x <- x + m v(x, i / N) / N from x = m x0. -> [B, H, A]."""
    m = batch["actionMask"][:, None]
    x = x0 * m
    cache = model.prefix_cache(batch["images"], batch["imageMask"], batch["tokens"], batch["tokenMask"])
    for i in range(steps):
        tau = torch.full((x.shape[0],), i / steps, device=x.device)
        x = x + model.velocity_cached(cache, batch["state"], batch["stateMask"], x, tau) * m / steps
    return x
