"""Business models as arrays: what role mix each needs, which specialisms fit its technical
roles, how it offends. Capability is how well a network's roles are filled."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.vocabulary import ROLE, ROLES, SPECIALISMS

if TYPE_CHECKING:
    from sim.scenario.schema import NetworkParams


class BusinessModels:
    def __init__(self, params: NetworkParams):
        self.names = list(params.business_models)
        models = [params.business_models[name] for name in self.names]
        self.needs = np.array([[getattr(m.roles, role) for role in ROLES] for m in models], dtype=np.int32)
        self.enabler_fits = np.array([[s in m.enabler_specialisms for s in SPECIALISMS] for m in models], dtype=bool)
        self.offence_rate = np.array([m.offence_rate for m in models])
        self.victims_per_offence = np.array([m.victims_per_offence for m in models])
        self.loss_median = np.array([m.loss_median for m in models])
        self.loss_sigma = np.array([m.loss_sigma for m in models])
        self.loss_max = np.array([m.loss_max for m in models])
        self.initial_per_10k = {name: params.initial_per_10k.get(name, 0.0) for name in self.names}
        self.code = {name: i for i, name in enumerate(self.names)}

    def capability(self, bm: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Mean fill of the needed roles (each capped at 1); zero without a core member."""
        need = self.needs[bm]
        fill = np.where(need > 0, np.minimum(1.0, counts / np.maximum(need, 1)), 0.0)
        mean_fill = fill.sum(axis=1) / np.maximum((need > 0).sum(axis=1), 1)
        return np.where(counts[:, ROLE["core"]] > 0, mean_fill, 0.0)

    def role_cap(self, bm: np.ndarray, slack: float) -> np.ndarray:
        """Most members per role a network takes: (1 + slack) x need, rounded up."""
        return np.ceil(self.needs[bm] * (1.0 + slack)).astype(np.int64)

    def demand(self, bm: np.ndarray, counts: np.ndarray, slack: float, growth_intensity: float) -> tuple[np.ndarray, np.ndarray]:
        """Recruitment intensity (0-1) and role weights (rows sum to 1 where intensity > 0).

        A network with unfilled roles recruits at full intensity, for those roles in proportion
        to what is missing; one whose needs are met grows more slowly up to (1 + slack) x need.
        """
        need = self.needs[bm].astype(float)
        short = np.where(need > 0, np.maximum(need - counts, 0) / np.maximum(need, 1), 0.0)
        cap = self.role_cap(bm, slack)
        room = np.where(cap > 0, np.maximum(cap - counts, 0) / np.maximum(cap, 1), 0.0)
        has_short = short.sum(axis=1) > 0
        weights = np.where(has_short[:, None], short, room)
        total = weights.sum(axis=1)
        intensity = np.where(has_short, 1.0, np.where(total > 0, growth_intensity, 0.0))
        return intensity, weights / np.where(total > 0, total, 1.0)[:, None]
