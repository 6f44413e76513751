"""Cloud telephony: call flows compiled to TwiML and NCCO, a routing simulator, agents' presence."""
