"""Status, one pure module per kind: from a snapshot (spec, children's projections, previous status) and
`now` to the ECS-shaped status, its conditions and the Events to post. Nothing here does I/O or reads the
clock, so the same inputs always give the same status: that is what keeps the operator quiet at rest."""
