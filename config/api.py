from rest_framework.routers import DefaultRouter

from fulfillment.api import ItemViewSet
from partners.api import PartnerViewSet
from patrons.api import PatronViewSet
from portal.api import BorrowingRequestViewSet

router = DefaultRouter()
router.register("items", ItemViewSet, basename="item")
router.register("partners", PartnerViewSet, basename="partner")
router.register("patrons", PatronViewSet, basename="patron")
router.register("borrowing-requests", BorrowingRequestViewSet, basename="borrowing-request")

urlpatterns = router.urls
