"""The outbound edge: lifecycle events become messages, each delivered once, retried durably."""
