"""MT billing as SMPP shows it: an MT that could not be charged is still accepted
(``submit_sm_resp`` ESME_ROK with a message id), then fails with an ``UNDELIV`` receipt
whose ``err`` says why; nothing was sent or charged (docs/smpp.md, "MT billing")."""

from __future__ import annotations

from gateway.errors import AccountClosed, InsufficientBalance, UnknownSubscriber

__all__ = ["ERR_ACCOUNT_CLOSED", "ERR_NO_BALANCE", "ERR_UNKNOWN_SUBSCRIBER", "NOT_CHARGED"]

#: the receipt's ``err`` when a prepaid balance is below the account's ``mt_price``
ERR_NO_BALANCE = 100
#: the receipt's ``err`` when the MSISDN is no subscriber (nobody to charge)
ERR_UNKNOWN_SUBSCRIBER = 101
#: the receipt's ``err`` when the subscriber's account is closed
ERR_ACCOUNT_CLOSED = 102

#: what the service raises for an MT it could not charge -> the receipt's ``err``
NOT_CHARGED: dict[type[Exception], int] = {
    InsufficientBalance: ERR_NO_BALANCE,
    UnknownSubscriber: ERR_UNKNOWN_SUBSCRIBER,
    AccountClosed: ERR_ACCOUNT_CLOSED,
}
