"""`POST /api/auth/token/`: a token for a username and password, throttled and locked out.

DRF's own view is unthrottled and parses bodies of any size; this one throttles per client
address (scope `sign_in`), uses the size-capped parsers, and hands Django's request to
authenticate() so django-axes counts the failure and locks the username (crm/signin.py).
"""

from django.contrib.auth import authenticate, user_logged_in
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from .json_renderer import JSONRenderer


class SignInRateThrottle(SimpleRateThrottle):
    """Sign-in attempts per client address, whoever they claim to be (rate: `sign_in`)."""

    scope = "sign_in"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenSerializer(serializers.Serializer):
    username = serializers.CharField(write_only=True, max_length=150)
    password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=4096)

    def validate(self, attrs):
        request = self.context["request"]
        # Django's HttpRequest, not DRF's wrapper: axes marks the lockout on the request the
        # middleware sees.
        user = authenticate(
            request=getattr(request, "_request", request),
            username=attrs["username"],
            password=attrs["password"],
        )
        if user is None:
            raise serializers.ValidationError(
                "Unable to log in with provided credentials.", code="authorization"
            )
        attrs["user"] = user
        return attrs


class TokenView(ObtainAuthToken):
    serializer_class = TokenSerializer
    throttle_classes = [SignInRateThrottle]
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES
    renderer_classes = [JSONRenderer]

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        # A sign-in like the admin's: axes forgets the earlier failures, last_login moves.
        user_logged_in.send(
            sender=type(user), request=getattr(request, "_request", request), user=user
        )
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
