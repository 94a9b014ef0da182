"""The Microsoft Graph client: connection profiles and clouds, sign-in, transport with one retry policy, errors explained."""
